import assert from "node:assert/strict";
import syslog from "../../../plugins/formatters/syslog.ts";
import { createRecord, type LogRecord } from "../../../src/core/record.ts";
import { parseSyslogLine, recordFromSyslog } from "../../../src/parse/syslog_line.ts";
import type { Formatter } from "../../../src/plugin/types.ts";

function make(raw: Record<string, unknown>): Formatter {
  const ctx = { issues: [] };
  const options = syslog.options.parse(raw, [], ctx);
  assert.deepEqual(ctx.issues, []);
  return syslog.create(options!, {} as never) as Formatter;
}

const T0 = Date.UTC(2024, 2, 9, 8, 7, 6, 5);

Deno.test("syslog formatter writes RFC 5424 with PRI from facility and level, and the header fields", () => {
  const format = make({ app_name: "payments", hostname: "web1", procid: "42", facility: "local0" });
  const levels = [5, 10, 20, 30, 40, 50];
  const pris = levels.map((level) =>
    /^<(\d+)>/.exec(format(createRecord({ time: T0, level, message: "m" })) as string)![1]
  );
  assert.deepEqual(pris, ["135", "135", "134", "132", "131", "130"]);
  assert.equal(
    format(createRecord({ time: T0, level: 20, logger: "payments", message: "hello" })),
    "<134>1 2024-03-09T08:07:06.005Z web1 payments 42 - - hello",
  );
});

Deno.test("syslog formatter escapes parameter values and cleans names and header values", () => {
  const format = make({ hostname: "my host", procid: "1", msgid: "ID 7" });
  const line = format(createRecord({
    time: T0,
    logger: "app.sub",
    message: "x",
    fields: { q: 'a"b', bs: "c\\d", br: "e]f", "bad name=": 1, obj: { k: [1, 2] }, nil: null },
  })) as string;
  assert.equal(
    line,
    String
      .raw`<14>1 2024-03-09T08:07:06.005Z my_host app.sub 1 ID_7 [fields@32473 q="a\"b" bs="c\\d" br="e\]f" bad_name_="1" obj="{\"k\":[1,2\]}" nil="null"] x`,
  );
});

Deno.test("syslog formatter output parses back to the same record (fields as strings)", () => {
  const format = make({ app_name: "svc", hostname: "h", procid: "9" });
  const records: LogRecord[] = [
    createRecord({
      time: T0,
      level: 40,
      logger: "svc.db",
      message: 'failed ] " \\',
      fields: { user: "ada", n: 5 },
    }),
    createRecord({ time: T0 + 1, level: 20, logger: "svc", message: "", fields: {} }),
    createRecord({
      time: T0 + 2,
      level: 30,
      logger: "",
      message: "üñí©ødé ✓",
      fields: { "k]": "v]" },
    }),
  ];
  const back = records.map((r) =>
    recordFromSyslog(parseSyslogLine(format(r) as string, 0), {
      sdId: "fields@32473",
      metadata: false,
      json: false,
      now: 0,
    })
  );
  assert.deepEqual(back, [
    {
      time: T0,
      level: 40,
      logger: "svc.db",
      message: 'failed ] " \\',
      fields: { user: "ada", n: "5" },
    },
    { time: T0 + 1, level: 20, logger: "svc", message: "", fields: {} },
    { time: T0 + 2, level: 30, logger: "svc", message: "üñí©ødé ✓", fields: { "k_": "v]" } },
  ]);
});

Deno.test("syslog formatter appends an error's stack to MSG and can start MSG with a BOM", () => {
  const format = make({ hostname: "h", procid: "1", bom: true, structured_data: false });
  const line = format({
    ...createRecord({ time: T0, level: 40, logger: "a", message: "boom", fields: { x: 1 } }),
    error: { name: "TypeError", message: "bad", stack: "TypeError: bad\n    at f (x.ts:1:1)" },
  });
  assert.equal(
    line,
    "<11>1 2024-03-09T08:07:06.005Z h a 1 - - \ufeffboom\nTypeError: bad\n    at f (x.ts:1:1)",
  );
});

Deno.test("syslog formatter writes RFC 3164 with a local-time stamp, TAG[PID] and key=value fields", () => {
  const format = make({ rfc: 3164, hostname: "web1", procid: "77", facility: 3 });
  const time = new Date(2024, 0, 5, 9, 8, 7).getTime();
  assert.equal(
    format(
      createRecord({
        time,
        level: 30,
        logger: "cron.job",
        message: "slow",
        fields: { ms: 1200, who: "a b" },
      }),
    ),
    '<28>Jan  5 09:08:07 web1 cron.job[77]: slow ms=1200 who="a b"',
  );
  const parsed = parseSyslogLine(
    format(createRecord({ time, level: 20, logger: "x", message: "m" })) as string,
    time,
  );
  assert.equal(parsed.appName, "x");
  assert.equal(parsed.procId, "77");
  assert.equal(parsed.hostname, "web1");
  assert.equal(parsed.time, time);
});

Deno.test("syslog formatter options reject an unknown facility, rfc and SD-ID with a message", () => {
  for (
    const [raw, path] of [
      [{ facility: "local9" }, "facility"],
      [{ rfc: 5425 }, "rfc"],
      [{ sd_id: "has space" }, "sd_id"],
    ] as const
  ) {
    const ctx = { issues: [] as { path: readonly (string | number)[]; message: string }[] };
    syslog.options.parse(raw, [], ctx);
    assert.equal(ctx.issues.length, 1, JSON.stringify(raw));
    assert.deepEqual(ctx.issues[0]!.path, [path]);
  }
});
