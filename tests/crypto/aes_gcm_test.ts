import assert from "node:assert/strict";
import fc from "fast-check";
import { AesGcm, gcmKeyId } from "../../src/crypto/aes_gcm.ts";
import { decodeBase64Url, decodeKey, encodeBase64Url, generateKey } from "../../src/crypto/keys.ts";
import { TokenError } from "../../src/crypto/token_error.ts";
import { pythonCryptography, skipWithout } from "../helpers/peers.ts";
import { runPython } from "../helpers/run_python.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const key = () => decodeKey(generateKey(), "key");

function problemOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof TokenError, `expected a TokenError, got ${error}`);
    return error.problem;
  }
  assert.fail("expected the line to be refused");
}

Deno.test("aes-256-gcm round-trips any payload and names its key in every line", () => {
  const k = key();
  const gcm = new AesGcm([k]);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (payload) => {
      const line = gcm.encrypt(payload);
      assert.ok(line.startsWith(`gcm1.${gcmKeyId(k)}.`));
      assert.deepEqual(new Uint8Array(gcm.decrypt(line)), payload);
    }),
    { numRuns: 300 },
  );
});

Deno.test("aes-256-gcm draws a fresh 96-bit nonce for each of 10,000 records", () => {
  const gcm = new AesGcm([key()]);
  const nonces = new Set<string>();
  for (let i = 0; i < 10_000; i++) {
    const data = gcm.encrypt("same record").split(".")[2]!;
    nonces.add(encodeBase64Url(decodeBase64Url(data)!.subarray(0, 12), false));
  }
  assert.equal(nonces.size, 10_000);
});

Deno.test("aes-256-gcm rotation: the first key encrypts, each line is decrypted by the key it names", () => {
  const [newer, older] = [key(), key()];
  const old = new AesGcm([older]).encrypt("old");
  const rotated = new AesGcm([newer, older]);
  const fresh = rotated.encrypt("new");
  assert.equal(rotated.keyId, gcmKeyId(newer));
  assert.equal(text(rotated.decrypt(old)), "old");
  assert.equal(text(rotated.decrypt(fresh)), "new");
  assert.equal(problemOf(() => new AesGcm([older]).decrypt(fresh)), "unknown_key");
});

Deno.test("aes-256-gcm binds key id and version: moving a line to another id or version fails", () => {
  const [a, b] = [key(), key()];
  const both = new AesGcm([a, b]);
  const line = both.encrypt("record");
  const [, , data] = line.split(".");
  // Same ciphertext presented under the other key's id: authentication fails.
  assert.equal(problemOf(() => both.decrypt(`gcm1.${gcmKeyId(b)}.${data}`)), "signature");
  assert.equal(problemOf(() => both.decrypt(`gcm2.${gcmKeyId(a)}.${data}`)), "version");
});

Deno.test("aes-256-gcm refuses every single flipped bit of nonce, ciphertext and tag", () => {
  const gcm = new AesGcm([key()]);
  const line = gcm.encrypt("a record worth protecting");
  const prefix = line.slice(0, line.lastIndexOf(".") + 1);
  const bytes = decodeBase64Url(line.slice(prefix.length))!;
  for (let bit = 0; bit < bytes.length * 8; bit++) {
    const copy = bytes.slice();
    copy[bit >> 3]! ^= 1 << (bit & 7);
    assert.equal(problemOf(() => gcm.decrypt(prefix + encodeBase64Url(copy, false))), "signature");
  }
});

Deno.test("aes-256-gcm refuses truncated and malformed lines", () => {
  const gcm = new AesGcm([key()]);
  const line = gcm.encrypt("record");
  assert.equal(problemOf(() => gcm.decrypt(line.slice(0, -3))), "signature");
  assert.equal(problemOf(() => gcm.decrypt(line.slice(0, 20))), "malformed");
  assert.equal(problemOf(() => gcm.decrypt("gcm1.")), "malformed");
  assert.equal(problemOf(() => gcm.decrypt(line + "!")), "malformed");
});

const python = pythonCryptography();

Deno.test({
  name:
    "aes-256-gcm lines decrypt with Python's AESGCM using the key id and version as associated data",
  ignore: skipWithout(python),
  async fn() {
    const secret = generateKey();
    const gcm = new AesGcm([decodeKey(secret, "key")]);
    const payloads = ["hello", "ü€😀", "x".repeat(500)];
    const out = await runPython(
      python.command,
      `
import sys, json, base64
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
key = base64.urlsafe_b64decode(${JSON.stringify(secret)})
out = []
for line in sys.stdin.read().split("\\n"):
    version, kid, data = line.split(".")
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    out.append(AESGCM(key).decrypt(raw[:12], raw[12:], (version + "." + kid).encode()).decode())
print(json.dumps(out))
`,
      payloads.map((p) => gcm.encrypt(p)).join("\n"),
    );
    assert.deepEqual(JSON.parse(out), payloads);
  },
});
