/**
 * A tolerant syslog parser: RFC 5424, RFC 3164 and what real senders emit between the two
 * (rsyslog's forwarding formats, Python's `SysLogHandler`, util-linux `logger`).
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";
import { recordFromObject } from "./record_from_object.ts";
import { ParseError } from "./parse_error.ts";
import { setOwn } from "../core/set_own.ts";

/** Facility names by number (RFC 5424 §6.2.1); 16–23 are `local0`–`local7`. */
export const SYSLOG_FACILITIES: readonly string[] = [
  "kern",
  "user",
  "mail",
  "daemon",
  "auth",
  "syslog",
  "lpr",
  "news",
  "uucp",
  "cron",
  "authpriv",
  "ftp",
  "ntp",
  "security",
  "console",
  "solaris-cron",
  "local0",
  "local1",
  "local2",
  "local3",
  "local4",
  "local5",
  "local6",
  "local7",
];

/** Severity names by number (RFC 5424 §6.2.1). */
export const SYSLOG_SEVERITIES: readonly string[] = [
  "emerg",
  "alert",
  "crit",
  "err",
  "warning",
  "notice",
  "info",
  "debug",
];

const LEVEL_OF_SEVERITY = [50, 50, 50, 40, 30, 20, 20, 10] as const;

/**
 * The Sluice level of a syslog severity: emerg, alert and crit are CRITICAL (50), err is
 * ERROR (40), warning WARN (30), notice and info INFO (20), debug DEBUG (10).
 *
 * @example Map severities
 * ```ts
 * import { levelOfSeverity } from "./syslog_line.ts";
 * import assert from "node:assert/strict";
 * assert.ok(levelOfSeverity(3) === 40 && levelOfSeverity(7) === 10);
 * ```
 */
export function levelOfSeverity(severity: number): number {
  return LEVEL_OF_SEVERITY[severity & 7]!;
}

/**
 * The syslog severity of a Sluice level: CRITICAL and above crit (2), ERROR err (3), WARN
 * warning (4), INFO info (6), DEBUG and TRACE debug (7).
 *
 * @example Map levels
 * ```ts
 * import { severityOfLevel } from "./syslog_line.ts";
 * import assert from "node:assert/strict";
 * assert.ok(severityOfLevel(40) === 3 && severityOfLevel(20) === 6);
 * ```
 */
export function severityOfLevel(level: number): number {
  return level >= 50 ? 2 : level >= 40 ? 3 : level >= 30 ? 4 : level >= 20 ? 6 : 7;
}

/** One parsed syslog message. Absent header fields (`-` or not sent) are `undefined`. */
export interface SyslogMessage {
  /** Facility number, 0–23. */
  facility: number;
  /** Severity number, 0–7. */
  severity: number;
  /** 1 for RFC 5424, 0 for RFC 3164 and other legacy formats. */
  version: number;
  /** The timestamp, epoch ms. */
  time?: number;
  /** HOSTNAME. */
  hostname?: string;
  /** APP-NAME (the TAG in RFC 3164). */
  appName?: string;
  /** PROCID (the `[pid]` after a 3164 TAG). */
  procId?: string;
  /** MSGID. */
  msgId?: string;
  /** STRUCTURED-DATA: parameters by SD-ID, in order. */
  structuredData?: Record<string, Record<string, string>>;
  /** MSG, without a UTF-8 BOM and trailing NUL or line-end characters. */
  message: string;
}

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:?\d{2})?/;
const BSD_TIME =
  /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (?:(\d{4}) )?(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?/;
const TAG = /^([^\s:\[\]]{1,128})(?:\[([^\]\s]{0,128})\])?:(?: |$)/;
const BARE_TAG = /^([^\s:\[\]]{1,48}) /;

/**
 * Parses one syslog message. It accepts RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID
 * SD MSG`), RFC 3164 (`<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`), an RFC 3339 timestamp in
 * the 3164 layout (rsyslog's forwarding format), and bare `<PRI>MSG` or `<PRI>TAG: MSG`
 * (Python's `SysLogHandler`). After a timestamp and host, a TAG ends at a colon, `[pid]:` or
 * a space, as rsyslog reads it (`<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!` has TAG `Use`). A 3164 timestamp has no year or zone: it is read as local time
 * in the year that puts it at most a week after `now`. Throws a {@linkcode ParseError} (`invalid_syslog`)
 * when there is no valid `<PRI>` or the structured data is malformed.
 *
 * @example Parse RFC 5424 and RFC 3164
 * ```ts
 * import { parseSyslogLine } from "./syslog_line.ts";
 * import assert from "node:assert/strict";
 * const a = parseSyslogLine('<165>1 2003-10-11T22:14:15.003Z host app 42 ID47 [ex@32473 k="v"] hi', 0);
 * assert.ok(a.facility === 20 && a.severity === 5 && a.structuredData?.["ex@32473"]?.k === "v");
 * const b = parseSyslogLine("<34>Oct 11 22:14:15 mymachine su[12]: 'su root' failed", Date.now());
 * assert.ok(b.appName === "su" && b.procId === "12" && b.hostname === "mymachine");
 * ```
 */
export function parseSyslogLine(line: string, now: number): SyslogMessage {
  if (line.charCodeAt(0) !== 60 /* < */) throw invalid("no <PRI> at the start");
  const close = line.indexOf(">", 1);
  if (close < 2 || close > 4) throw invalid("malformed <PRI>");
  let pri = 0;
  for (let i = 1; i < close; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c < 0 || c > 9) throw invalid("malformed <PRI>");
    pri = pri * 10 + c;
  }
  if (pri > 191) throw invalid(`PRI ${pri} out of range`);
  const out: SyslogMessage = {
    facility: pri >> 3,
    severity: pri & 7,
    version: 0,
    message: "",
  };
  // RFC 5424: a one- or two-digit VERSION and a space right after PRI.
  const v0 = line.charCodeAt(close + 1) - 48;
  if (v0 >= 1 && v0 <= 9) {
    const v1 = line.charCodeAt(close + 2);
    const versionEnd = v1 === 32
      ? close + 2
      : v1 >= 48 && v1 <= 57 && line.charCodeAt(close + 3) === 32
      ? close + 3
      : -1;
    if (versionEnd !== -1 && parse5424(line, versionEnd + 1, out)) {
      out.version = versionEnd === close + 2 ? v0 : v0 * 10 + (v1 - 48);
      return out;
    }
  }
  const rest = parseLegacy(line.slice(close + 1), out, now);
  out.message = cleanMessage(rest);
  return out;
}

/**
 * Parses the header after `<PRI>VERSION SP` (from `start`), the structured data and the
 * message; returns false (leaving `out` untouched) when it is not RFC 5424 after all.
 */
function parse5424(line: string, start: number, out: SyslogMessage): boolean {
  const s1 = line.indexOf(" ", start);
  const s2 = s1 === -1 ? -1 : line.indexOf(" ", s1 + 1);
  const s3 = s2 === -1 ? -1 : line.indexOf(" ", s2 + 1);
  const s4 = s3 === -1 ? -1 : line.indexOf(" ", s3 + 1);
  if (s4 === -1) return false;
  let s5 = line.indexOf(" ", s4 + 1);
  if (s5 === -1) s5 = line.length;
  let time: number | undefined;
  if (!(s1 === start + 1 && line.charCodeAt(start) === 45)) {
    time = parseRfc3339(line, start, s1);
    if (time === undefined) return false;
  }
  if (time !== undefined) out.time = time;
  const hostname = field(line, s1 + 1, s2);
  const appName = field(line, s2 + 1, s3);
  const procId = field(line, s3 + 1, s4);
  const msgId = field(line, s4 + 1, s5);
  if (hostname !== undefined) out.hostname = hostname;
  if (appName !== undefined) out.appName = appName;
  if (procId !== undefined) out.procId = procId;
  if (msgId !== undefined) out.msgId = msgId;
  let pos = s5 + 1;
  if (pos > line.length) {
    // The header ended without structured data: tolerate it.
    out.message = "";
    return true;
  }
  const c = line.charCodeAt(pos);
  if (c === 45 /* - */) pos++;
  else if (c === 91 /* [ */) pos = parseStructuredData(line, pos, out);
  else {
    // No SD at all (some senders skip it): the rest is the message.
    out.message = cleanMessage(line.slice(pos));
    return true;
  }
  if (line.charCodeAt(pos) === 32) pos++;
  out.message = cleanMessage(line.slice(pos));
  return true;
}

/** A header field between `start` and `end`; `-` (the nil value) is `undefined`. */
function field(line: string, start: number, end: number): string | undefined {
  return end === start + 1 && line.charCodeAt(start) === 45 ? undefined : line.slice(start, end);
}

function parseStructuredData(text: string, pos: number, out: SyslogMessage): number {
  const sd: Record<string, Record<string, string>> = {};
  while (text.charCodeAt(pos) === 91 /* [ */) {
    pos++;
    let idEnd = pos;
    while (idEnd < text.length) {
      const c = text.charCodeAt(idEnd);
      if (c === 32 || c === 93 || c === 61 || c === 34) break;
      idEnd++;
    }
    if (idEnd === pos) throw invalid("empty SD-ID");
    const id = text.slice(pos, idEnd);
    const params: Record<string, string> = sd[id] ?? {};
    pos = idEnd;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 93 /* ] */) {
        pos++;
        break;
      }
      if (c !== 32) throw invalid(`malformed structured data in [${id}]`);
      pos++;
      const eq = text.indexOf("=", pos);
      if (eq === -1 || text.charCodeAt(eq + 1) !== 34) {
        throw invalid(`malformed parameter in [${id}]`);
      }
      const name = text.slice(pos, eq);
      if (name === "" || !sdName(name)) throw invalid(`malformed parameter in [${id}]`);
      pos = eq + 2;
      let value = "";
      let start = pos;
      for (;;) {
        if (pos >= text.length) throw invalid(`unterminated value of ${name} in [${id}]`);
        const v = text.charCodeAt(pos);
        if (v === 92 /* \ */) {
          const next = text.charCodeAt(pos + 1);
          if (next === 34 || next === 92 || next === 93) {
            value += text.slice(start, pos);
            start = pos + 1;
            pos += 2;
            continue;
          }
          pos++;
          continue;
        }
        if (v === 34) break;
        pos++;
      }
      value += text.slice(start, pos);
      pos++;
      setOwn(params, name, value);
    }
    setOwn(sd, id, params);
  }
  out.structuredData = sd;
  return pos;
}

function parseLegacy(rest: string, out: SyslogMessage, now: number): string {
  let stamped = false;
  const iso = RFC3339.exec(rest);
  if (iso && rest.charCodeAt(iso[0].length) === 32) {
    const time = parseRfc3339(iso[0], 0, iso[0].length);
    if (time !== undefined) {
      out.time = time;
      rest = rest.slice(iso[0].length + 1);
      stamped = true;
    }
  } else {
    const bsd = BSD_TIME.exec(rest);
    const month = bsd ? MONTHS[bsd[1]!] : undefined;
    if (bsd && month !== undefined) {
      out.time = bsdTime(bsd, month, now);
      rest = rest.slice(bsd[0].length);
      if (rest.charCodeAt(0) === 32) rest = rest.slice(1);
      stamped = true;
    }
  }
  if (stamped) {
    // HOSTNAME, unless the next token is already the TAG ("tag:" or "tag[pid]:").
    const space = rest.indexOf(" ");
    const token = space === -1 ? rest : rest.slice(0, space);
    if (token !== "" && !token.endsWith(":") && !/^[^\s\[]+\[[^\]]*\]:?$/.test(token)) {
      if (token !== "-") out.hostname = token;
      rest = space === -1 ? "" : rest.slice(space + 1);
    }
  }
  const tag = TAG.exec(rest);
  if (tag) {
    if (tag[1] !== "-") out.appName = tag[1]!;
    if (tag[2] !== undefined && tag[2] !== "") out.procId = tag[2];
    rest = rest.slice(tag[0].length);
  } else if (stamped) {
    // After a timestamp and host, the TAG may end at a space instead of a colon: rsyslog reads
    // it that way and writes it that way (RSYSLOG_ForwardFormat of an RFC 5424 message).
    const bare = BARE_TAG.exec(rest);
    if (bare) {
      out.appName = bare[1]!;
      rest = rest.slice(bare[0].length);
    }
  }
  return rest;
}

function bsdTime(m: RegExpExecArray, month: number, now: number): number {
  const day = Number(m[2]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  const ms = m[7] ? Math.round(Number("0." + m[7]) * 1000) : 0;
  if (m[3]) return new Date(Number(m[3]), month, day, hour, minute, second, ms).getTime();
  const year = new Date(now).getFullYear();
  let time = new Date(year, month, day, hour, minute, second, ms).getTime();
  // A timestamp more than a week ahead is last year's (December read in January); one almost a
  // year behind is next year's (a sender whose clock is ahead at New Year).
  if (time - now > 7 * 86_400_000) {
    time = new Date(year - 1, month, day, hour, minute, second, ms).getTime();
  } else if (now - time > 358 * 86_400_000) {
    time = new Date(year + 1, month, day, hour, minute, second, ms).getTime();
  }
  return time;
}

let cachedMinute = "";
let cachedMinuteUtc = 0;

/**
 * Parses the RFC 3339 timestamp `line[start, end)` with up to nine fraction digits;
 * `undefined` when it is not one. Without a zone it is local time, as a legacy sender means
 * it. The UTC start of the last minute seen is cached: a burst shares it.
 */
function parseRfc3339(line: string, start: number, end: number): number | undefined {
  if (end - start < 19) return undefined;
  const d = (i: number) => {
    const c = line.charCodeAt(start + i) - 48;
    return c >= 0 && c <= 9 ? c : NaN;
  };
  const sep = line.charCodeAt(start + 10);
  if (
    line.charCodeAt(start + 4) !== 45 || line.charCodeAt(start + 7) !== 45 ||
    (sep !== 84 && sep !== 116 && sep !== 32) || line.charCodeAt(start + 13) !== 58 ||
    line.charCodeAt(start + 16) !== 58
  ) return undefined;
  const second = d(17) * 10 + d(18);
  let pos = start + 19;
  let ms = 0;
  if (line.charCodeAt(pos) === 46 /* . */) {
    pos++;
    let digits = 0;
    while (pos < end) {
      const c = line.charCodeAt(pos) - 48;
      if (c < 0 || c > 9) break;
      if (digits < 3) ms = ms * 10 + c;
      digits++;
      pos++;
    }
    if (digits === 0 || digits > 9) return undefined;
    for (let i = digits; i < 3; i++) ms *= 10;
  }
  let offset: number | undefined; // minutes east of UTC; undefined without a zone
  if (pos < end) {
    const z = line.charCodeAt(pos);
    if ((z === 90 || z === 122) && pos + 1 === end) offset = 0;
    else if ((z === 43 || z === 45) && (end - pos === 6 || end - pos === 5)) {
      const colon = end - pos === 6;
      if (colon && line.charCodeAt(pos + 3) !== 58) return undefined;
      const h = (line.charCodeAt(pos + 1) - 48) * 10 + line.charCodeAt(pos + 2) - 48;
      const m = colon
        ? (line.charCodeAt(pos + 4) - 48) * 10 + line.charCodeAt(pos + 5) - 48
        : (line.charCodeAt(pos + 3) - 48) * 10 + line.charCodeAt(pos + 4) - 48;
      if (!(h >= 0 && h < 24 && m >= 0 && m < 60)) return undefined;
      offset = (z === 45 ? -1 : 1) * (h * 60 + m);
    } else return undefined;
  }
  if (Number.isNaN(second) || second > 60) return undefined;
  const year = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3);
  const month = d(5) * 10 + d(6);
  const day = d(8) * 10 + d(9);
  const hour = d(11) * 10 + d(12);
  const minute = d(14) * 10 + d(15);
  if (
    Number.isNaN(year + month + day + hour + minute) || month < 1 || month > 12 || day < 1 ||
    day > 31 || hour > 23 || minute > 59
  ) return undefined;
  if (offset === undefined) {
    return new Date(year, month - 1, day, hour, minute, second, ms).getTime();
  }
  let base: number;
  if (line.startsWith(cachedMinute, start) && cachedMinute.length === 16) base = cachedMinuteUtc;
  else {
    base = Date.UTC(year, month - 1, day, hour, minute);
    cachedMinute = line.slice(start, start + 16);
    cachedMinuteUtc = base;
  }
  return base + second * 1000 + ms - offset * 60_000;
}

function cleanMessage(text: string): string {
  let start = 0;
  let end = text.length;
  if (text.charCodeAt(0) === 0xfeff) start = 1;
  while (end > start) {
    const c = text.charCodeAt(end - 1);
    if (c !== 0 && c !== 10 && c !== 13) break;
    end--;
  }
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** Whether a PARAM-NAME has no space, `]` or `"` (the RFC's other limits are not enforced). */
function sdName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 32 || c === 93 || c === 34) return false;
  }
  return true;
}

function invalid(detail: string): ParseError {
  return new ParseError(`Invalid syslog message: ${detail}`, "invalid_syslog");
}

/** Options of {@linkcode recordFromSyslog}. */
export interface SyslogRecordOptions {
  /** The SD-ID whose parameters become the record's fields (the `syslog` formatter's). */
  sdId: string;
  /** Add `hostname`, `app_name`, `procid`, `msgid`, `facility` and `severity` fields. */
  metadata: boolean;
  /** Read a JSON object message (plain or after an `@cee:` cookie) as the record's content. */
  json: boolean;
  /** The time used when the message has none. */
  now: number;
}

/**
 * Maps a parsed message to a record. The level comes from the severity; the logger from
 * APP-NAME, or from the `logger` parameter of the `sdId` element (which the `syslog`
 * formatter writes); the other parameters of that element become fields, and other SD
 * elements become object fields named by their SD-ID. A JSON object message (Python
 * formatters that write JSON; `@cee:` lines) is read like an ingested JSON line: its
 * `message`, `level`, `logger`/`name`, `time` and other keys win over the header's.
 *
 * @example A formatter-written message back to a record
 * ```ts
 * import { parseSyslogLine, recordFromSyslog } from "./syslog_line.ts";
 * import assert from "node:assert/strict";
 * const msg = parseSyslogLine('<11>1 - h payments 7 - [fields@32473 logger="pay.db" user="ada"] failed', 0);
 * const record = recordFromSyslog(msg, { sdId: "fields@32473", metadata: false, json: true, now: 0 });
 * assert.ok(record.level === 40 && record.logger === "pay.db" && record.fields.user === "ada");
 * ```
 */
export function recordFromSyslog(message: SyslogMessage, options: SyslogRecordOptions): LogRecord {
  const fields: Record<string, unknown> = {};
  let logger = message.appName ?? "";
  if (options.metadata) {
    if (message.hostname !== undefined) fields.hostname = message.hostname;
    if (message.appName !== undefined) fields.app_name = message.appName;
    if (message.procId !== undefined) fields.procid = message.procId;
    if (message.msgId !== undefined) fields.msgid = message.msgId;
    fields.facility = SYSLOG_FACILITIES[message.facility] ?? String(message.facility);
    fields.severity = SYSLOG_SEVERITIES[message.severity];
  }
  const sd = message.structuredData;
  if (sd) {
    for (const id in sd) {
      const params = sd[id]!;
      if (id === options.sdId) {
        for (const name in params) {
          if (name === "logger") logger = params[name]!;
          else setOwn(fields, name, params[name]);
        }
      } else setOwn(fields, id, params);
    }
  }
  const text = message.message;
  if (options.json) {
    let body = text;
    if (body.startsWith("@cee:")) body = body.slice(5).trimStart();
    if (body.charCodeAt(0) === 123 /* { */ && body.charCodeAt(body.length - 1) === 125) {
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch {
        value = undefined;
      }
      if (typeof value === "object" && value !== null && !Array.isArray(value)) {
        const inner = recordFromObject(value as Record<string, unknown>, NaN);
        const object = value as Record<string, unknown>;
        const record: LogRecord = {
          time: Number.isNaN(inner.time) ? message.time ?? options.now : inner.time,
          level: hasAny(object, ["level", "severity", "levelname", "lvl"])
            ? inner.level
            : levelOfSeverity(message.severity),
          logger: hasAny(object, ["logger", "name", "logger_name"]) ? inner.logger : logger,
          message: inner.message,
          fields: Object.assign(fields, inner.fields),
        };
        if (inner.error) record.error = inner.error;
        return record;
      }
    }
  }
  return {
    time: message.time ?? options.now,
    level: levelOfSeverity(message.severity),
    logger,
    message: text,
    fields,
  };
}

function hasAny(object: Record<string, unknown>, keys: readonly string[]): boolean {
  for (const key of keys) if (key in object) return true;
  return false;
}
