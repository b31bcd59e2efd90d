import assert from "node:assert/strict";
import { ParseError } from "../../src/parse/parse_error.ts";
import {
  levelOfSeverity,
  parseSyslogLine,
  recordFromSyslog,
  severityOfLevel,
} from "../../src/parse/syslog_line.ts";

const NOW = Date.UTC(2024, 5, 15, 12, 0, 0);
const options = { sdId: "fields@32473", metadata: true, json: true, now: NOW };

Deno.test("syslog_line parses the RFC 5424 examples of §6.5", () => {
  const a = parseSyslogLine(
    "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \ufeff'su root' failed for lonvick on /dev/pts/8",
    NOW,
  );
  assert.deepEqual(a, {
    facility: 4,
    severity: 2,
    version: 1,
    time: Date.UTC(2003, 9, 11, 22, 14, 15, 3),
    hostname: "mymachine.example.com",
    appName: "su",
    msgId: "ID47",
    message: "'su root' failed for lonvick on /dev/pts/8",
  });
  const b = parseSyslogLine(
    "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
    NOW,
  );
  assert.equal(b.time, Date.UTC(2003, 7, 24, 12, 14, 15, 0));
  assert.equal(b.procId, "8710");
  assert.equal(b.message, "%% It's time to make the do-nuts.");
  const c = parseSyslogLine(
    '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
    NOW,
  );
  assert.deepEqual(c.structuredData, {
    "exampleSDID@32473": { iut: "3", eventSource: "Application", eventID: "1011" },
    "examplePriority@32473": { class: "high" },
  });
  assert.equal(c.message, "");
});

Deno.test('syslog_line unescapes \\" \\\\ and \\] in parameter values and keeps other backslashes', () => {
  const m = parseSyslogLine(
    String.raw`<14>1 - - - - - [a@1 q="say \"hi\"" b="C:\\dir" c="x\]y" d="keep\n"] msg`,
    NOW,
  );
  assert.deepEqual(m.structuredData?.["a@1"], {
    q: 'say "hi"',
    b: "C:\\dir",
    c: "x]y",
    d: "keep\\n",
  });
  assert.equal(m.message, "msg");
  assert.equal(m.time, undefined);
});

Deno.test("syslog_line parses RFC 3164 lines with and without a TAG, and with a space-padded day", () => {
  const a = parseSyslogLine(
    "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
    NOW,
  );
  assert.equal(a.version, 0);
  assert.equal(a.hostname, "mymachine");
  assert.equal(a.appName, "su");
  assert.equal(a.message, "'su root' failed for lonvick on /dev/pts/8");
  assert.equal(
    a.time,
    new Date(2023, 9, 11, 22, 14, 15).getTime(),
    "October read in June is last year's",
  );
  // As rsyslog reads it: after the host, a TAG may end at a space.
  const b = parseSyslogLine("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!", NOW);
  assert.equal(b.hostname, "10.0.0.99");
  assert.equal(b.appName, "Use");
  assert.equal(b.message, "the BFG!");
  assert.equal(b.time, new Date(2024, 1, 5, 17, 32, 18).getTime());
  const c = parseSyslogLine("<30>Jun 15 11:00:00 sshd[812]: Accepted publickey", NOW);
  assert.equal(c.hostname, undefined, "a TAG right after the timestamp is not a host");
  assert.equal(c.appName, "sshd");
  assert.equal(c.procId, "812");
});

Deno.test("syslog_line reads rsyslog's forwarding format and util-linux logger's RFC 5424 output", () => {
  const bare = parseSyslogLine("<13>2024-05-06T07:08:09.123+02:00 vm billing payment 0", NOW);
  assert.equal(bare.appName, "billing", "RSYSLOG_ForwardFormat of an RFC 5424 message: no colon");
  assert.equal(bare.message, "payment 0");
  const fwd = parseSyslogLine(
    "<13>2024-05-06T07:08:09.123456+02:00 web-1 app[99]: payment done\n",
    NOW,
  );
  assert.equal(fwd.time, Date.UTC(2024, 4, 6, 5, 8, 9, 123));
  assert.equal(fwd.hostname, "web-1");
  assert.equal(fwd.appName, "app");
  assert.equal(fwd.procId, "99");
  assert.equal(fwd.message, "payment done");
  const util = parseSyslogLine(
    '<13>1 2024-05-06T07:08:09.123456+00:00 host root - - [timeQuality tzKnown="1" isSynced="0"] hello',
    NOW,
  );
  assert.equal(util.appName, "root");
  assert.deepEqual(util.structuredData, { timeQuality: { tzKnown: "1", isSynced: "0" } });
});

Deno.test("syslog_line reads Python SysLogHandler's bare '<PRI>msg\\0' and '<PRI>ident: msg'", () => {
  const bare = parseSyslogLine("<14>hello world\0", NOW);
  assert.deepEqual(bare, { facility: 1, severity: 6, version: 0, message: "hello world" });
  const ident = parseSyslogLine("<11>myapp: oops: it broke\0", NOW);
  assert.equal(ident.appName, "myapp");
  assert.equal(ident.message, "oops: it broke");
});

Deno.test("syslog_line rejects input without a valid PRI or with broken structured data", () => {
  for (
    const bad of [
      "",
      "hello",
      "<>x",
      "<1234>x",
      "<192>x",
      "<1a>x",
      "<14>1 - - - - - [a@1 x=unquoted] m",
      '<14>1 - - - - - [a@1 x="unterminated] m',
      "<14>1 - - - - - [ x] m",
    ]
  ) {
    assert.throws(
      () => parseSyslogLine(bad, NOW),
      (e) => e instanceof ParseError && e.reason === "invalid_syslog",
      JSON.stringify(bad),
    );
  }
});

Deno.test("syslog_line maps severities to levels and back", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map(levelOfSeverity), [50, 50, 50, 40, 30, 20, 20, 10]);
  assert.deepEqual([5, 10, 20, 25, 30, 40, 50, 60].map(severityOfLevel), [7, 7, 6, 6, 4, 3, 2, 2]);
});

Deno.test("syslog_line recordFromSyslog takes fields and logger from the SD element and metadata from the header", () => {
  const m = parseSyslogLine(
    '<131>1 2024-01-01T00:00:00.000Z h1 payments 7 M1 [fields@32473 logger="pay.db" user="ada"][meta seq="4"] declined',
    NOW,
  );
  const record = recordFromSyslog(m, options);
  assert.deepEqual(record, {
    time: Date.UTC(2024, 0, 1),
    level: 40,
    logger: "pay.db",
    message: "declined",
    fields: {
      hostname: "h1",
      app_name: "payments",
      procid: "7",
      msgid: "M1",
      facility: "local0",
      severity: "err",
      user: "ada",
      meta: { seq: "4" },
    },
  });
});

Deno.test("syslog_line recordFromSyslog reads a JSON message (plain or @cee) as the record's content", () => {
  const m = parseSyslogLine(
    '<12>pyapp: {"name":"py.mod","levelname":"ERROR","message":"m","time":1700000000.25,"user":"ada","n":3}\0',
    NOW,
  );
  const record = recordFromSyslog(m, { ...options, metadata: false });
  assert.deepEqual(record, {
    time: 1_700_000_000_250,
    level: 40,
    logger: "py.mod",
    message: "m",
    fields: { user: "ada", n: 3 },
  });
  const cee = recordFromSyslog(parseSyslogLine('<11>app: @cee: {"msg":"x","k":true}', NOW), {
    ...options,
    metadata: false,
  });
  assert.equal(cee.message, "x");
  assert.equal(cee.level, 40, "the severity gives the level when the JSON has none");
  assert.equal(cee.logger, "app");
  assert.equal(cee.time, NOW);
  const notJson = recordFromSyslog(parseSyslogLine("<14>{not json}", NOW), options);
  assert.equal(notJson.message, "{not json}");
});

Deno.test("syslog_line keeps a __proto__ parameter as a plain field", () => {
  const m = parseSyslogLine('<14>1 - - - - - [fields@32473 __proto__="x"] m', NOW);
  const record = recordFromSyslog(m, options);
  assert.equal(Object.getPrototypeOf(record.fields), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(record.fields, "__proto__")?.value, "x");
});

Deno.test("syslog_line reads RFC 3339 offsets and fractions exactly, and refuses impossible timestamps", () => {
  const at = (stamp: string) => parseSyslogLine(`<14>1 ${stamp} h a - - - m`, NOW).time;
  assert.equal(at("2024-02-29T23:59:59.999999Z"), Date.UTC(2024, 1, 29, 23, 59, 59, 999));
  assert.equal(at("2024-03-01T05:30:00+05:30"), Date.UTC(2024, 2, 1, 0, 0, 0));
  assert.equal(at("2024-03-01T05:30:00+0530"), Date.UTC(2024, 2, 1, 0, 0, 0));
  assert.equal(at("2024-03-01T00:00:00.5-01:00"), Date.UTC(2024, 2, 1, 1, 0, 0, 500));
  assert.equal(at("2024-03-01t00:00:00z"), Date.UTC(2024, 2, 1));
  assert.equal(
    at("2024-03-01T12:34:56"),
    new Date(2024, 2, 1, 12, 34, 56).getTime(),
    "no zone: local",
  );
  // Same minute, cached base: seconds still count.
  assert.equal(at("2024-03-01T12:34:57Z")! - at("2024-03-01T12:34:01Z")!, 56_000);
  for (
    const bad of [
      "2024-13-01T00:00:00Z",
      "2024-03-01T24:00:00Z",
      "2024-03-01T00:00:00.Z",
      "2024-03-01T00:00:00+25:00",
      "20240301T000000Z",
    ]
  ) {
    const m = parseSyslogLine(`<14>1 ${bad} h a - - - m`, NOW);
    assert.equal(m.version, 0, `${bad} is not an RFC 5424 header`);
  }
});
