import assert from "node:assert/strict";
import { percentFormat, pyStr } from "../../src/parse/percent_format.ts";
import { parsePythonLiteral } from "../../src/parse/python_literal.ts";

// Expected texts are what CPython 3.11 prints for `msg % args`; args are given as the repr()
// text HTTPHandler sends, so each case also exercises the literal parser.
const CASES: [string, string, string][] = [
  ["user %s paid %d", "('ada', 3)", "user ada paid 3"],
  ["%5.2f|%-6s|%06.1f|%+d|% d", "(3.14159, 'ab', -2.5, 5, 7)", " 3.14|ab    |-002.5|+5| 7"],
  ["%r and %s", `("it's", None)`, `"it's" and None`],
  ["%x %X %o %#x %#o", "(255, 255, 8, 255, 8)", "ff FF 10 0xff 0o10"],
  [
    "%e %E %g %g %g %G",
    "(12345.678, 0.000123, 0.0001, 1e-05, 123456789.0, 1e+20)",
    "1.234568e+04 1.230000E-04 0.0001 1e-05 1.23457e+08 1E+20",
  ],
  ["%g %g %g %.3g %#g", "(100.0, 1.5, 0.0, 3.14159, 1.0)", "100 1.5 0 3.14 1.00000"],
  ["%s %s %s", "(1.0, 1e+16, [1, 'a', None])", "1.0 1e+16 [1, 'a', None]"],
  ["%d%%", "(50,)", "50%"],
  ["%(user)s is %(age)d", "{'user': 'ada', 'age': 36}", "ada is 36"],
  ["%s", "({'a': 1},)", "{'a': 1}"],
  ["%c%c", "('x', 65)", "xA"],
  ["%*d|%.*f", "(5, 42, 2, 3.14159)", "   42|3.14"],
  ["%s", "((1,),)", "(1,)"],
  ["%d", "(3.99,)", "3"],
  ["%d", "(-0.5,)", "0"],
  ["%.3s", "('abcdef',)", "abc"],
  ["%s", "(True,)", "True"],
  ["%f %f", "(inf, nan)", "inf nan"],
  ["%s", "(100000000000000000000,)", "100000000000000000000"],
];

Deno.test("percentFormat matches CPython's msg % args for every conversion a log call uses", () => {
  for (const [msg, args, expected] of CASES) {
    const parsed = parsePythonLiteral(args);
    assert.notEqual(parsed, undefined, `cannot parse ${args}`);
    assert.equal(percentFormat(msg, parsed), expected, `${msg} % ${args}`);
  }
});

Deno.test("percentFormat returns undefined where Python raises, so the raw message is kept", () => {
  assert.equal(percentFormat("%s %s", ["one"]), undefined, "not enough arguments");
  assert.equal(percentFormat("%s", ["one", "two"]), undefined, "not all arguments converted");
  assert.equal(percentFormat("%d", ["text"]), undefined, "a number is required");
  assert.equal(percentFormat("%(missing)s", { other: 1 }), undefined, "a missing key");
  assert.equal(percentFormat("100% sure %s", ["x"]), undefined, '"% s" takes the only argument');
  assert.equal(percentFormat("%y", ["x"]), undefined, "an unsupported conversion");
  assert.equal(percentFormat("no specs", { unused: 1 }), "no specs", "a mapping may go unused");
});

Deno.test("pyStr renders plain data as Python's str()", () => {
  assert.equal(pyStr(null), "None");
  assert.equal(pyStr(false), "False");
  assert.equal(pyStr("text"), "text");
  assert.equal(pyStr({ k: ["a", 1.5] }), "{'k': ['a', 1.5]}");
  assert.equal(pyStr(parsePythonLiteral("(1,)")), "(1,)");
});
