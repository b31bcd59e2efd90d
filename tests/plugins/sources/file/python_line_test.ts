import assert from "node:assert/strict";
import {
  compilePythonLine,
  PYTHON_DEFAULT_FORMAT,
} from "../../../../plugins/sources/file/python_line.ts";
import { ParseError } from "../../../../src/parse/parse_error.ts";
import { python3, skipWithout } from "../../../helpers/peers.ts";

Deno.test("compilePythonLine parses the seed's default format", () => {
  const parse = compilePythonLine();
  const record = parse(
    "2026-11-24 10:00:00,123 - app.payment - CRITICAL - Card declined - retry",
    0,
  );
  assert.equal(record.time, new Date(2026, 10, 24, 10, 0, 0, 123).getTime());
  assert.equal(record.level, 50);
  assert.equal(record.logger, "app.payment");
  assert.equal(record.message, "Card declined - retry");
});

Deno.test("compilePythonLine handles padding, other attributes and %%", () => {
  const parse = compilePythonLine(
    "[%(levelname)-8s] %(module)s:%(lineno)d %(name)s 100%% %(message)s",
  );
  const record = parse("[INFO    ] views:42 web 100% ready", 7);
  assert.equal(record.level, 20);
  assert.equal(record.time, 7);
  assert.equal(record.logger, "web");
  assert.equal(record.message, "ready");
  assert.deepEqual(record.fields, { module: "views", lineno: 42 });
});

Deno.test("compilePythonLine turns a traceback after the message into the record's error", () => {
  const parse = compilePythonLine();
  const record = parse(
    "2026-11-24 10:00:00,000 - app - ERROR - failed\nTraceback (most recent call last):\n" +
      '  File "x.py", line 1, in <module>\njson.decoder.JSONDecodeError: Expecting value',
    0,
  );
  assert.equal(record.message, "failed");
  assert.equal(record.error?.name, "JSONDecodeError");
  assert.equal(record.error?.message, "Expecting value");
  assert.match(record.error?.stack ?? "", /^Traceback \(most recent call last\):\n {2}File/);
});

Deno.test("compilePythonLine throws ParseError no_match for other lines", () => {
  assert.throws(
    () => compilePythonLine()("hello", 0),
    (e: unknown) => e instanceof ParseError && e.reason === "no_match",
  );
  assert.throws(() => compilePythonLine("no placeholders"), /has no %\(name\)s placeholder/);
});

Deno.test({
  name: "compilePythonLine reads what Python's logging writes with the default format",
  ignore: skipWithout(python3()),
  async fn() {
    const script = `
import logging, sys
handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(logging.Formatter(${JSON.stringify(PYTHON_DEFAULT_FORMAT)}))
log = logging.getLogger("svc.api")
log.addHandler(handler)
log.setLevel(logging.DEBUG)
log.debug("one")
log.warning("two %s", "args")
try:
    1 / 0
except ZeroDivisionError:
    log.exception("three")
`;
    const out = await new Deno.Command("python3", { args: ["-c", script] }).output();
    assert.ok(out.success);
    const text = new TextDecoder().decode(out.stdout);
    const lines = text.trimEnd().split("\n");
    const parse = compilePythonLine();
    assert.equal(parse(lines[0]!, 0).level, 10);
    assert.equal(parse(lines[1]!, 0).message, "two args");
    const record = parse(lines.slice(2).join("\n"), 0);
    assert.equal(record.level, 40);
    assert.equal(record.message, "three");
    assert.equal(record.error?.name, "ZeroDivisionError");
    assert.ok(Math.abs(parse(lines[0]!, 0).time - Date.now()) < 60_000);
  },
});
