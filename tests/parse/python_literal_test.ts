import assert from "node:assert/strict";
import { parsePythonLiteral, PyFloat, PyTuple } from "../../src/parse/python_literal.ts";

Deno.test("parsePythonLiteral reads the repr() of plain data", () => {
  const tuple = parsePythonLiteral(
    `('a', "it's", b'\\x00bytes', 42, -7, 1.5, 1e-05, None, True, False, [1, [2]], {'k': (3,)}, {1, 2})`,
  );
  assert.ok(tuple instanceof PyTuple);
  const value = [...tuple];
  assert.deepEqual(value.slice(0, 2), ["a", "it's"]);
  assert.equal(value[2], "\u0000bytes");
  assert.equal(value[3], 42);
  assert.equal(value[4], -7);
  assert.ok(value[5] instanceof PyFloat && value[5].value === 1.5 && value[5].text === "1.5");
  assert.equal((value[6] as PyFloat).value, 1e-5);
  assert.deepEqual(value.slice(7, 10), [null, true, false]);
  assert.deepEqual(value[10], [1, [2]]);
  assert.deepEqual(JSON.parse(JSON.stringify(value[11])), { k: [3] });
  assert.deepEqual(value[12], [1, 2]);
});

Deno.test("parsePythonLiteral decodes every string escape Python's repr writes", () => {
  assert.equal(
    parsePythonLiteral(`'tab\\there\\n\\x01 \\u00e9 \\U0001f389 \\\\ \\''`),
    "tab\there\n\x01 é 🎉 \\ '",
  );
  assert.equal(parsePythonLiteral(`'日本語'`), "日本語");
  assert.equal(parsePythonLiteral(`r'\\d+'`), "\\d+");
});

Deno.test("parsePythonLiteral keeps large ints exact and rejects what is not plain data", () => {
  assert.equal(
    parsePythonLiteral("123456789012345678901234567890"),
    123456789012345678901234567890n,
  );
  for (
    const text of [
      "<object object at 0x7f2a>",
      "datetime.date(2024, 1, 1)",
      "__import__('os').system('id')",
      "(1, 2",
      "'unterminated",
      "(1+2j)",
      "[".repeat(100) + "]".repeat(100),
      "1 2",
    ]
  ) {
    assert.equal(parsePythonLiteral(text), undefined, text);
  }
});
