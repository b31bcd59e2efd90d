import assert from "node:assert/strict";
import { type LineRejection, LineSplitter } from "../../src/parse/line_splitter.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function split(chunks: Uint8Array[], max = 1024) {
  const rejected: [LineRejection, number][] = [];
  const splitter = new LineSplitter(max, (reason, line) => rejected.push([reason, line]));
  const lines: (string | null)[] = [];
  for (const chunk of chunks) lines.push(...splitter.push(chunk));
  lines.push(...splitter.end());
  return { lines, rejected, count: splitter.lines };
}

Deno.test("LineSplitter gives each line once, in order, whatever the chunk boundaries", () => {
  const text = "alpha\r\nbéta\n\ngamma 🎉\nlast";
  const whole = split([bytes(text)]);
  assert.deepEqual(whole.lines, ["alpha", "béta", "", "gamma 🎉", "last"]);
  const all = bytes(text);
  for (let size = 1; size <= 7; size++) {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < all.length; i += size) chunks.push(all.slice(i, i + size));
    assert.deepEqual(split(chunks).lines, whole.lines, `chunks of ${size} bytes`);
  }
});

Deno.test("LineSplitter rejects overlong lines and invalid UTF-8 with their line numbers", () => {
  const { lines, rejected, count } = split([
    bytes("ok\n" + "x".repeat(20) + "\n"),
    bytes("y".repeat(15)),
    bytes("y".repeat(15) + "\nfine\n"),
    new Uint8Array([0xc3, 0x28, 0x0a]),
    bytes("ü".repeat(6) + "\n"),
    bytes("tail"),
  ], 10);
  assert.deepEqual(lines, ["ok", null, null, "fine", null, null, "tail"]);
  assert.deepEqual(rejected, [
    ["line_too_long", 2],
    ["line_too_long", 3],
    ["invalid_utf8", 5],
    ["line_too_long", 6],
  ]);
  assert.equal(count, 7);
});

Deno.test("LineSplitter accepts a line of exactly the maximum, with or without CR", () => {
  const { lines } = split(
    [bytes("1234567890\r\n"), bytes("12345"), bytes("67890\r"), bytes("\n")],
    10,
  );
  assert.deepEqual(lines, ["1234567890", "1234567890"]);
});
