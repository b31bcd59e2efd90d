import assert from "node:assert/strict";
import fc from "fast-check";
import { Fernet } from "../../src/crypto/fernet.ts";
import { decodeBase64Url, decodeKey, encodeBase64Url, generateKey } from "../../src/crypto/keys.ts";
import { TokenError } from "../../src/crypto/token_error.ts";
import { pythonCryptography, skipWithout } from "../helpers/peers.ts";
import { runPython } from "../helpers/run_python.ts";

// The Fernet specification's generate.json / verify.json vector.
const SPEC = {
  token:
    "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==",
  seconds: 499162800, // 1985-10-26T01:20:00-07:00
  iv: Uint8Array.from({ length: 16 }, (_, i) => i),
  src: "hello",
  secret: "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=",
};
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const key = () => decodeKey(generateKey(), "key");

function problemOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof TokenError, `expected a TokenError, got ${error}`);
    return error.problem;
  }
  assert.fail("expected the token to be refused");
}

Deno.test("fernet reproduces the specification's test vector byte for byte", () => {
  const fernet = new Fernet([decodeKey(SPEC.secret, "spec key")]);
  assert.equal(fernet.encryptAt(SPEC.src, SPEC.seconds, SPEC.iv), SPEC.token);
  assert.equal(text(fernet.decrypt(SPEC.token)), SPEC.src);
});

Deno.test("fernet round-trips any payload, from empty to several blocks", () => {
  const fernet = new Fernet([key()]);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (payload) => {
      const token = fernet.encrypt(payload);
      assert.match(token, /^gAAAAA[A-Za-z0-9_-]+=*$/);
      assert.equal(token.length % 4, 0, "tokens are padded base64");
      assert.deepEqual(new Uint8Array(fernet.decrypt(token)), payload);
    }),
    { numRuns: 300 },
  );
});

Deno.test("fernet tokens carry the clock's time as a big-endian 64-bit timestamp", () => {
  const fernet = new Fernet([key()], { now: () => 1_700_000_000_999 });
  const bytes = decodeBase64Url(fernet.encrypt("x"))!;
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  assert.equal(view.getUint32(1), 0);
  assert.equal(view.getUint32(5), 1_700_000_000);
});

Deno.test("fernet with a key list encrypts with the first key and decrypts with any", () => {
  const [newer, older] = [key(), key()];
  const old = new Fernet([older]).encrypt("old record");
  const rotated = new Fernet([newer, older]);
  const fresh = rotated.encrypt("new record");
  assert.equal(text(rotated.decrypt(old)), "old record");
  assert.equal(text(new Fernet([newer]).decrypt(fresh)), "new record");
  assert.equal(problemOf(() => new Fernet([older]).decrypt(fresh)), "signature");
});

Deno.test("fernet refuses every single flipped bit of a token", () => {
  const fernet = new Fernet([key()]);
  const bytes = decodeBase64Url(fernet.encrypt("a record worth protecting"))!;
  for (let bit = 0; bit < bytes.length * 8; bit++) {
    const copy = bytes.slice();
    copy[bit >> 3]! ^= 1 << (bit & 7);
    const problem = problemOf(() => fernet.decrypt(encodeBase64Url(copy, true)));
    assert.ok(["signature", "version"].includes(problem), `bit ${bit}: ${problem}`);
  }
});

Deno.test("fernet refuses truncated tokens, bad base64 and a wrong key with distinct reasons", () => {
  const fernet = new Fernet([key()]);
  const token = fernet.encrypt("record");
  assert.equal(problemOf(() => fernet.decrypt(token.slice(0, 40))), "malformed");
  assert.equal(problemOf(() => fernet.decrypt(token.slice(0, -8))), "malformed");
  assert.equal(problemOf(() => fernet.decrypt("not a token!")), "malformed");
  assert.equal(problemOf(() => new Fernet([key()]).decrypt(token)), "signature");
});

Deno.test("fernet with a ttl refuses old and far-future tokens like Python does", () => {
  let now = 1_000_000_000_000;
  const fernet = new Fernet([key()], { now: () => now });
  const token = fernet.encrypt("x");
  now += 30_000;
  assert.equal(text(fernet.decrypt(token, 60)), "x");
  now += 60_000;
  assert.equal(problemOf(() => fernet.decrypt(token, 60)), "expired");
  assert.equal(text(fernet.decrypt(token)), "x", "without a ttl age does not matter");
  now -= 200_000;
  assert.equal(problemOf(() => fernet.decrypt(token, 60)), "future");
});

Deno.test("fernet errors never contain the key", () => {
  const secret = generateKey();
  const fernet = new Fernet([decodeKey(secret, "key")]);
  for (const bad of ["", "gAAAA", fernet.encrypt("x").slice(0, -4) + "AAA="]) {
    let message = "";
    try {
      fernet.decrypt(bad);
      assert.fail("expected a refusal");
    } catch (error) {
      assert.ok(error instanceof TokenError);
      message = error.message;
    }
    assert.ok(!message.includes(secret.slice(0, 12)), message);
  }
});

const python = pythonCryptography();

Deno.test({
  name: "fernet tokens and Python's cryptography.fernet decrypt each other",
  ignore: skipWithout(python),
  async fn() {
    const secret = generateKey();
    const fernet = new Fernet([decodeKey(secret, "key")]);
    const payloads = ["", "hello", "ü€😀", "x".repeat(1000), '{"a":1}'];
    const ours = payloads.map((p) => fernet.encrypt(p));
    const out = await runPython(
      python.command,
      `
import sys, json
from cryptography.fernet import Fernet
f = Fernet(${JSON.stringify(secret)}.encode())
lines = sys.stdin.read().split("\\n")
print(json.dumps([f.decrypt(t.encode()).decode() for t in lines]))
for p in ${JSON.stringify(payloads)}:
    print(f.encrypt(p.encode()).decode())
`,
      ours.join("\n"),
    );
    const [decrypted, ...theirs] = out.trim().split("\n");
    assert.deepEqual(JSON.parse(decrypted!), payloads);
    assert.deepEqual(theirs.map((t) => text(fernet.decrypt(t))), payloads);
  },
});
