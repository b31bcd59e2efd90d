import assert from "node:assert/strict";
import fc from "fast-check";
import {
  attachMac,
  GENESIS,
  LineChain,
  openFileChain,
  readChainTail,
  splitChained,
  verifyChain,
} from "../../src/crypto/chain.ts";
import { encodeBase64Url } from "../../src/crypto/keys.ts";

const secret = new TextEncoder().encode("chain secret for tests, 32 bytes");
const macArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) =>
  encodeBase64Url(b, false)
);

/** Record texts with new lines, braces, quotes and lookalikes of the MAC forms. */
const text = fc.string({
  unit: fc.constantFrom("a", "é", "\n", "{", "}", " ", '"', "=", "chain", ",", "\r", "\t"),
  maxLength: 40,
});

function chained(contents: readonly string[]): string[] {
  const chain = new LineChain(secret);
  return contents.map((c) => chain.next(c));
}

/** Physical lines of chained records (a record may hold new lines). */
function physical(lines: readonly string[]): string[] {
  return lines.flatMap((line) => line.split("\n"));
}

Deno.test("chain: splitting a chained line gives back exactly the content and MAC, for any text", () => {
  fc.assert(
    fc.property(
      fc.string({ maxLength: 80 }).filter((t) => !t.includes("\n")),
      macArb,
      (content, mac) => {
        assert.deepEqual(splitChained(attachMac(content, mac)), { content, mac });
      },
    ),
    { numRuns: 2000 },
  );
  // Texts that look like the writer's own forms still round-trip.
  const mac = "M".repeat(43);
  for (const tricky of ["{}", "{", "}", "{ }", `{"chain":"${mac}"}`, `x chain=${mac}`, ""]) {
    assert.deepEqual(splitChained(attachMac(tricky, mac)), { content: tricky, mac }, tricky);
  }
});

Deno.test("chain: a JSON line stays a JSON object with a last member chain", () => {
  const [line] = chained(['{"time":"t","message":"hi","n":1}']);
  const parsed = JSON.parse(line!);
  assert.equal(parsed.message, "hi");
  assert.match(parsed.chain, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(Object.keys(parsed), ["time", "message", "n", "chain"]);
  assert.match(chained(["level=info msg=hi"])[0]!, /^level=info msg=hi chain=[A-Za-z0-9_-]{43}$/);
});

Deno.test("chain: an intact chain of random records verifies, multi-line records included", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(text, { maxLength: 30 }),
      async (contents) => {
        const lines = chained(contents);
        const report = await verifyChain(physical(lines), secret);
        assert.equal(report.broken, undefined, JSON.stringify(contents));
        assert.equal(report.records, contents.length);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("chain: editing, deleting, inserting or reordering any record is found at its line", async () => {
  const lines = chained(Array.from({ length: 20 }, (_, i) => `{"n":${i},"message":"record ${i}"}`));
  for (let i = 0; i < lines.length; i++) {
    const edited = [...lines];
    edited[i] = edited[i]!.replace(`record ${i}`, `record ${i}!`);
    assert.equal((await verifyChain(edited, secret)).broken?.line, i + 1, `edit ${i}`);

    const deleted = lines.filter((_, j) => j !== i);
    const expected = i === lines.length - 1 ? undefined : i + 1;
    assert.equal((await verifyChain(deleted, secret)).broken?.line, expected, `delete ${i}`);

    const inserted = [...lines.slice(0, i), lines[(i + 5) % lines.length]!, ...lines.slice(i)];
    assert.equal((await verifyChain(inserted, secret)).broken?.line, i + 1, `insert ${i}`);

    if (i + 1 < lines.length) {
      const swapped = [...lines];
      [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
      assert.equal((await verifyChain(swapped, secret)).broken?.line, i + 1, `swap ${i}`);
    }
  }
});

Deno.test("chain: a removed stack line of a multi-line record breaks it at its first line", async () => {
  const lines = physical(chained(["a", "ERROR failed\nError: boom\n    at f (x.ts:1:1)", "c"]));
  assert.equal(lines.length, 5);
  assert.equal((await verifyChain(lines, secret)).broken, undefined);
  const cut = lines.filter((_, i) => i !== 2);
  const report = await verifyChain(cut, secret);
  assert.equal(report.broken?.line, 2);
  assert.match(report.broken!.reason, /lines 2-3 does not match/);
});

Deno.test("chain: unchained lines at the end and a wrong secret are reported", async () => {
  const lines = chained(["a", "b"]);
  const truncated = [...lines.slice(0, 1), lines[1]!.slice(0, -10)];
  const report = await verifyChain(truncated, secret);
  assert.equal(report.broken?.line, 2);
  assert.match(report.broken!.reason, /no chain MAC/);
  const other = new TextEncoder().encode("another secret of enough bytes");
  assert.equal((await verifyChain(lines, other)).broken?.line, 1);
});

Deno.test("chain: a restarted writer continues from the MAC the file ends with", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/app.log`;
    assert.equal(readChainTail(path).state, "empty");
    await Deno.writeTextFile(path, chained(["a", "b"]).join("\n") + "\n");
    const tail = readChainTail(path);
    assert.equal(tail.state, "chained");
    const resumed = new LineChain(secret, tail.state === "chained" ? tail.mac : GENESIS);
    await Deno.writeTextFile(path, resumed.next("c") + "\n", { append: true });
    const report = await verifyChain((await Deno.readTextFile(path)).trimEnd().split("\n"), secret);
    assert.deepEqual(report, { records: 3, lines: 3 });
    await Deno.writeTextFile(`${dir}/plain.log`, "not chained\n");
    assert.equal(readChainTail(`${dir}/plain.log`).state, "unchained");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("chain: openFileChain reads the secret from the environment and warns about an unchained file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/app.log`, "an old unchained line\n");
    const warnings: string[] = [];
    const context = {
      id: "out",
      baseDir: dir,
      log: { warnOnce: (_key: string, message: string) => warnings.push(message), info() {} },
    };
    Deno.env.set("CHAIN_UNIT_TEST_KEY", "0123456789abcdef0123456789abcdef");
    try {
      const chain = openFileChain({ key_env: "CHAIN_UNIT_TEST_KEY" }, "app.log", context)!;
      assert.ok(chain);
      assert.deepEqual(chain.chain.previous, GENESIS);
      assert.match(warnings[0]!, /already ends with a line that has no chain MAC/);
    } finally {
      Deno.env.delete("CHAIN_UNIT_TEST_KEY");
    }
    assert.throws(
      () => openFileChain({ key_env: "CHAIN_UNIT_TEST_KEY" }, "app.log", context),
      /Cannot open sink "out": chain secret: Environment variable "CHAIN_UNIT_TEST_KEY" is not set/,
    );
    assert.equal(openFileChain(false, "app.log", context), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
