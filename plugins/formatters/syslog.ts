/**
 * The `syslog` formatter: RFC 5424 with fields as structured data, or RFC 3164.
 *
 * @module
 */

import type { LogRecord } from "../../src/core/record.ts";
import { severityOfLevel, SYSLOG_FACILITIES } from "../../src/parse/syslog_line.ts";
import { definePlugin } from "../../src/plugin/define_plugin.ts";
import { s } from "../../src/schema/schema.ts";
import { formatLogfmtPairs } from "../../src/format/logfmt_pairs.ts";
import { isoTimeCache } from "../../src/core/time_cache.ts";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * Writes RFC 5424 lines — `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG` — or RFC
 * 3164 lines — `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG`. PRI is `facility * 8 +
 * severity`; the level maps to the severity: CRITICAL crit (2), ERROR err (3), WARN warning
 * (4), INFO info (6), DEBUG and TRACE debug (7). In RFC 5424 the record's fields are the
 * parameters of one SD element (`sd_id`, default `fields@32473`) after the record's `trace_id`,
 * `span_id` and `parent_span_id`, escaped per §6.3.3, and the
 * logger name is its `logger` parameter when it differs from APP-NAME; the `syslog` source
 * reads them back. In RFC 3164 the fields follow the message as `key=value` pairs. An error is
 * appended to MSG on the next line (its stack when known). Header values are cut to their
 * RFC lengths and non-printable characters become `_`.
 *
 * @example YAML
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfigText } from "../../src/config/load.ts";
 * const yaml = `
 * sinks:
 *   central:
 *     type: tcp
 *     address: 127.0.0.1:6514
 *     framing: octet_counting
 *     format: { type: syslog, rfc: 5424, app_name: payments, facility: local0 }
 * `;
 * const { config } = await parseConfigText(yaml, "example.yaml");
 * assert.ok(config);
 * ```
 *
 * @example Format a record
 * ```ts
 * import syslog from "./syslog.ts";
 * import { createRecord } from "../../src/core/record.ts";
 * import assert from "node:assert/strict";
 * const format = syslog.create(
 *   { rfc: 5424, facility: 1, app_name: "payments", hostname: "web1", procid: "42", msgid: "-", sd_id: "fields@32473", structured_data: true, bom: false },
 *   {} as never,
 * );
 * const line = format(createRecord({ time: 0, level: 40, logger: "payments", message: "declined", fields: { card: 'a"b]' } }));
 * assert.ok(line === '<11>1 1970-01-01T00:00:00.000Z web1 payments 42 - [fields@32473 card="a\\"b\\]"] declined');
 * ```
 */
export default definePlugin({
  kind: "formatter",
  type: "syslog",
  description:
    "RFC 5424 syslog lines with fields as structured data, or RFC 3164 lines; level to severity, facility option.",
  options: s.object({
    rfc: s.custom(
      (v) => (v === 5424 || v === "5424" ? 5424 : v === 3164 || v === "3164" ? 3164 : undefined),
      "5424 or 3164",
      { enum: [5424, 3164] },
    ).default(5424).describe("The syslog format."),
    facility: s.custom(parseFacility, "a facility name (user, daemon, local0 … local7) or 0–23", {
      anyOf: [{ type: "string", enum: [...SYSLOG_FACILITIES] }, {
        type: "integer",
        minimum: 0,
        maximum: 23,
      }],
    }).default(1).describe("The facility (name or number)."),
    app_name: s.string({ minLength: 1 }).optional().describe(
      "APP-NAME (the TAG in RFC 3164); the record's logger name when omitted.",
    ),
    hostname: s.string({ minLength: 1 }).optional().describe(
      "HOSTNAME; the machine's host name when omitted.",
    ),
    procid: s.string({ minLength: 1 }).optional().describe(
      "PROCID; this process's id when omitted.",
    ),
    msgid: s.string({ minLength: 1 }).default("-").describe("MSGID (RFC 5424)."),
    sd_id: s.string({
      pattern: /^[!#-<>-\\^-~]{1,32}$/,
      patternName: "an SD-ID such as fields@32473",
    }).default("fields@32473").describe("The SD-ID of the element that carries the fields."),
    structured_data: s.boolean().default(true).describe(
      "Write fields as structured data (RFC 5424) or key=value pairs (RFC 3164).",
    ),
    bom: s.boolean().default(false).describe("Start MSG with a UTF-8 BOM (RFC 5424 MSG-UTF8)."),
  }),
  permissions(options) {
    return options.hostname === undefined ? { sys: ["hostname"] } : {};
  },
  create(options) {
    const facility = options.facility;
    const pri: string[] = [];
    for (let severity = 0; severity < 8; severity++) pri.push(`<${facility * 8 + severity}>`);
    const hostname = header(options.hostname ?? systemHostname(), 255);
    const procid = header(options.procid ?? String(Deno.pid), 128);
    const fixedApp = options.app_name === undefined ? undefined : header(options.app_name, 48);
    const withFields = options.structured_data;
    const bom = options.bom ? "\ufeff" : "";
    if (options.rfc === 3164) {
      const tag = fixedApp === undefined ? undefined : header(fixedApp, 32);
      return (record: LogRecord): string => {
        const app = tag ?? appOf(record.logger, 32);
        let out = pri[severityOfLevel(record.level)]! + bsdTime(record.time) + " " + hostname +
          " " +
          app + "[" + procid + "]: " + record.message;
        if (withFields) {
          if (record.trace_id !== undefined) out += traceText(record, " ", "=", "");
          const pairs = formatLogfmtPairs(record.fields);
          if (pairs) out += " " + pairs;
        }
        return record.error ? out + errorText(record) : out;
      };
    }
    const iso = isoTimeCache();
    const tail = " " + procid + " " + header(options.msgid, 32) + " ";
    const sdOpen = "[" + options.sd_id;
    return (record: LogRecord): string => {
      const app = fixedApp ?? appOf(record.logger, 48);
      let sd = "";
      if (withFields) {
        if (record.trace_id !== undefined) sd = traceText(record, " ", '="', '"');
        const fields = record.fields;
        for (const key in fields) {
          const value = fields[key];
          if (value === undefined) continue;
          sd += " " + paramName(key) + '="' + escapeParam(paramValue(value)) + '"';
        }
        if (fixedApp !== undefined && record.logger !== "" && record.logger !== fixedApp) {
          sd += ' logger="' + escapeParam(record.logger) + '"';
        }
      }
      let out = pri[severityOfLevel(record.level)]! + "1 " + iso(record.time) + " " + hostname +
        " " +
        app + tail + (sd === "" ? "-" : sdOpen + sd + "]");
      const message = record.error ? record.message + errorText(record) : record.message;
      if (message !== "" || bom !== "") out += " " + bom + message;
      return out;
    };
  },
});

function parseFacility(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isInteger(value) && value >= 0 && value <= 23 ? value : undefined;
  }
  if (typeof value !== "string") return undefined;
  if (/^\d+$/.test(value)) return parseFacility(Number(value));
  const index = SYSLOG_FACILITIES.indexOf(value.toLowerCase());
  return index === -1 ? undefined : index;
}

function systemHostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "-";
  }
}

/** A header value: printable US-ASCII only, at most `max` characters, `-` when empty. */
function header(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, "_").slice(0, max);
  return clean === "" ? "-" : clean;
}

const appCache = new Map<string, string>();

function appOf(logger: string, max: number): string {
  const key = max + ":" + logger;
  let app = appCache.get(key);
  if (app === undefined) {
    app = header(logger, max);
    if (appCache.size < 10_000) appCache.set(key, app);
  }
  return app;
}

/** An SD-NAME: printable US-ASCII except `=`, space, `]` and `"`, at most 32 characters. */
function paramName(key: string): string {
  return /^[!#-<>-\\^-~]{1,32}$/.test(key)
    ? key
    : key.replace(/[^!#-<>-\\^-~]/g, "_").slice(0, 32) || "_";
}

function paramValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (value === null) return "null";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Escapes `"`, `\` and `]` in a PARAM-VALUE (RFC 5424 §6.3.3). */
function escapeParam(value: string): string {
  return /["\\\]]/.test(value) ? value.replace(/["\\\]]/g, "\\$&") : value;
}

/** The record's span as parameters or pairs (hex ids need no escaping). */
function traceText(record: LogRecord, sep: string, open: string, close: string): string {
  let out = sep + "trace_id" + open + record.trace_id + close + sep + "span_id" + open +
    record.span_id + close;
  if (record.parent_span_id !== undefined) {
    out += sep + "parent_span_id" + open + record.parent_span_id + close;
  }
  return out;
}

function errorText(record: LogRecord): string {
  const error = record.error!;
  return "\n" + (error.stack ?? `${error.name}: ${error.message}`);
}

let lastSecond = NaN;
let lastStamp = "";

/** `Mmm dd hh:mm:ss` in local time, day padded with a space (RFC 3164 §4.1.2). */
function bsdTime(time: number): string {
  const second = Math.floor(time / 1000);
  if (second !== lastSecond) {
    const d = new Date(second * 1000);
    const day = d.getDate();
    lastStamp = MONTHS[d.getMonth()]! + " " + (day < 10 ? " " + day : String(day)) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    lastSecond = second;
  }
  return lastStamp;
}

function pad(n: number): string {
  return n < 10 ? "0" + n : String(n);
}
