import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { hmacSha256 } from "../../src/crypto/hmac_sha256.ts";

Deno.test("hmacSha256 equals createHmac for keys shorter, equal to and longer than the block", () => {
  for (const keyLength of [0, 1, 16, 32, 63, 64, 65, 200]) {
    const key = new Uint8Array(randomBytes(keyLength));
    for (const messageLength of [0, 1, 55, 56, 64, 1000]) {
      const message = new Uint8Array(randomBytes(messageLength));
      const text = "é✓ " + messageLength;
      assert.deepEqual(
        hmacSha256(key, message, text),
        createHmac("sha256", key).update(message).update(text, "utf8").digest(),
        `key ${keyLength}, message ${messageLength}`,
      );
    }
  }
});

Deno.test("hmacSha256 matches RFC 4231 test case 2", () => {
  const mac = hmacSha256(new TextEncoder().encode("Jefe"), "what do ya want for nothing?");
  assert.equal(
    mac.toString("hex"),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
});
