/**
 * One mapping, several writers: the `json` formatter's `naming: otel` and the `http` sink's
 * `otlp` preset give a record the same severity, timestamp and exception/code attributes;
 * `naming: ecs`, the `elasticsearch` preset's document and the `loki` preset's level label
 * give it the same ECS level, call site and error.
 */

import assert from "node:assert/strict";
import { createRecord, type LogRecord } from "../../src/core/record.ts";
import type { Formatter, PluginContext } from "../../src/plugin/types.ts";
import json from "../../plugins/formatters/json/mod.ts";
import { otlpPreset } from "../../plugins/sinks/http/presets/otlp.ts";
import { ecsDocument } from "../../plugins/sinks/http/presets/elasticsearch.ts";
import { lokiPreset } from "../../plugins/sinks/http/presets/loki.ts";

function formatter(raw: Record<string, unknown>): Formatter {
  const ctx = { issues: [] };
  const options = json.options.parse(raw, [], ctx);
  assert.deepEqual(ctx.issues, []);
  return json.create(options!, {} as PluginContext) as Formatter;
}

/** Records at every level from 0 to 60, odd times, with and without error, cause and caller. */
function records(): LogRecord[] {
  const out: LogRecord[] = [];
  for (let level = 0; level <= 60; level++) {
    const record = createRecord({
      time: 1_700_000_000_000 + level * 1.000001,
      level,
      logger: "pay",
      message: `at ${level}`,
      fields: { n: level },
    });
    if (level % 3 === 0) {
      record.error = {
        name: "TypeError",
        message: "bad",
        ...(level % 2 ? { stack: "TypeError: bad\n    at f (a.ts:1:1)" } : {}),
        ...(level % 4 === 0 ? { cause: { name: "Error", message: "root", cause: "deeper" } } : {}),
      };
    }
    if (level % 5 === 0) {
      record.caller = {
        file: "/app/pay.ts",
        line: level + 1,
        column: 2,
        function: "f",
        module: "pay",
      };
    }
    out.push(record);
  }
  return out;
}

type AnyValue = { stringValue?: string; intValue?: string };

Deno.test("naming: otel and the otlp preset map every level, time, error and call site alike", () => {
  const otel = formatter({ naming: "otel" });
  const preset = otlpPreset({ resource: {} });
  for (const record of records()) {
    const line = JSON.parse(otel(record) as string);
    const body = JSON.parse(preset.body([preset.item(record)], [record]));
    const log = body.resourceLogs[0].scopeLogs[0].logRecords[0];
    const attributes = Object.fromEntries(
      (log.attributes as { key: string; value: AnyValue }[]).map(({ key, value }) => [
        key,
        value.stringValue ?? Number(value.intValue),
      ]),
    );
    assert.deepEqual(
      [log.timeUnixNano, log.severityNumber, log.severityText, attributes],
      [line.Timestamp, line.SeverityNumber, line.SeverityText, line.Attributes],
      `level ${record.level}`,
    );
  }
});

Deno.test("naming: ecs, the elasticsearch preset and the loki preset map every level, error and call site alike", () => {
  const ecs = formatter({ naming: "ecs" });
  const loki = lokiPreset({ labels: ["level"], staticLabels: {} }, (r) => r.message);
  const pick = (doc: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(doc).filter(([key]) =>
        key === "log.level" || key.startsWith("log.origin.") || key.startsWith("error.")
      ),
    );
  for (const record of records()) {
    const formatted = pick(JSON.parse(ecs(record) as string));
    assert.deepEqual(pick(JSON.parse(ecsDocument(record))), formatted, `level ${record.level}`);
    const pushed = JSON.parse(loki.body([loki.item(record)], [record]));
    assert.equal(pushed.streams[0].stream.level, formatted["log.level"]);
  }
});
