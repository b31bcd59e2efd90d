import assert from "node:assert/strict";
import { decodeKey } from "../../../src/crypto/keys.ts";
import { pythonCryptography, skipWithout } from "../../helpers/peers.ts";
import { runPython } from "../../helpers/run_python.ts";
import { runCli } from "../../helpers/sluice_process.ts";

const python = pythonCryptography();

Deno.test("sluice keygen prints distinct 32-byte keys for each algorithm", async () => {
  for (const algorithm of ["fernet", "aes-256-gcm", "hmac-sha256"]) {
    const result = await runCli(["keygen", "--algorithm", algorithm, "--count", "3"]);
    assert.equal(result.code, 0, result.stderr);
    const keys = result.stdout.trimEnd().split("\n");
    assert.equal(new Set(keys).size, 3);
    for (const key of keys) assert.equal(decodeKey(key, "key").length, 32);
  }
  const bad = await runCli(["keygen", "--algorithm", "rot13"]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /unknown algorithm "rot13"; expected one of fernet, aes-256-gcm, hmac-sha256/,
  );
});

Deno.test({
  name: "sluice keygen's fernet keys are accepted by Python's Fernet",
  ignore: skipWithout(python),
  async fn() {
    const result = await runCli(["keygen"]);
    const key = result.stdout.trim();
    const out = await runPython(
      python.command,
      `from cryptography.fernet import Fernet
f = Fernet(${JSON.stringify(key)}.encode())
print(f.decrypt(f.encrypt(b"ok")).decode())`,
    );
    assert.equal(out.trim(), "ok");
  },
});
