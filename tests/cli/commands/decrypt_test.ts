import assert from "node:assert/strict";
import { AesGcm } from "../../../src/crypto/aes_gcm.ts";
import { Fernet } from "../../../src/crypto/fernet.ts";
import {
  decodeBase64Url,
  decodeKey,
  encodeBase64Url,
  generateKey,
} from "../../../src/crypto/keys.ts";
import { pythonCryptography, skipWithout } from "../../helpers/peers.ts";
import { runPython } from "../../helpers/run_python.ts";
import { runCli } from "../../helpers/sluice_process.ts";

const python = pythonCryptography();

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test({
  name: "sluice decrypt: 1,000 tokens made by Python's Fernet come out as the original records",
  ignore: skipWithout(python),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const key = generateKey();
      const path = `${dir}/secure.log`;
      await runPython(
        python.command,
        `
import json
from cryptography.fernet import Fernet
f = Fernet(${JSON.stringify(key)}.encode())
with open(${JSON.stringify(path)}, "w") as out:
    for i in range(1000):
        record = {"timestamp": 1700000000 + i, "level": "INFO", "message": f"record {i} ü€"}
        out.write(f.encrypt(json.dumps(record).encode()).decode() + "\\n")
`,
      );
      const result = await runCli(["decrypt", path], { env: { SLUICE_LOG_KEYS: key } });
      assert.equal(result.stderr, "");
      assert.equal(result.code, 0);
      const records = result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
      assert.equal(records.length, 1000);
      records.forEach((record, i) => assert.equal(record.message, `record ${i} ü€`));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "sluice decrypt: MultiFernet rotation from Python (old key, new key, rotate()) with --keys-env",
  ignore: skipWithout(python),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const [oldKey, newKey] = [generateKey(), generateKey()];
      const path = `${dir}/secure.log`;
      await runPython(
        python.command,
        `
from cryptography.fernet import Fernet, MultiFernet
old, new = Fernet(${JSON.stringify(oldKey)}.encode()), Fernet(${JSON.stringify(newKey)}.encode())
multi = MultiFernet([new, old])
with open(${JSON.stringify(path)}, "w") as out:
    before = old.encrypt(b"written before rotation")
    out.write(before.decode() + "\\n")
    out.write(multi.encrypt(b"written after rotation").decode() + "\\n")
    out.write(multi.rotate(before).decode() + "\\n")
`,
      );
      const both = await runCli(["decrypt", "--keys-env", "LOG_KEYS", path], {
        env: { LOG_KEYS: `${newKey},${oldKey}` },
      });
      assert.equal(both.code, 0, both.stderr);
      assert.deepEqual(both.stdout.trimEnd().split("\n"), [
        "written before rotation",
        "written after rotation",
        "written before rotation",
      ]);
      // With only the new key, the line still under the old key is reported and skipped.
      const onlyNew = await runCli(["decrypt", "--keys-env", "LOG_KEYS", path], {
        env: { LOG_KEYS: newKey },
      });
      assert.equal(onlyNew.code, 1);
      assert.deepEqual(onlyNew.stdout.trimEnd().split("\n"), [
        "written after rotation",
        "written before rotation",
      ]);
      assert.match(onlyNew.stderr, new RegExp(`${path}:1: Signature matches none of the 1 key`));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("sluice decrypt: a flipped bit, a truncated line and a foreign key's line are each named by file and line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [key, foreign] = [generateKey(), generateKey()];
    const fernet = new Fernet([decodeKey(key, "key")]);
    const flipped = decodeBase64Url(fernet.encrypt("flipped"))!;
    flipped[40]! ^= 0x04;
    const lines = [
      fernet.encrypt("one"),
      encodeBase64Url(flipped, true),
      fernet.encrypt("three"),
      fernet.encrypt("truncated").slice(0, 50),
      new Fernet([decodeKey(foreign, "foreign")]).encrypt("foreign"),
      "",
      new AesGcm([decodeKey(key, "key")]).encrypt("seven (aes-256-gcm)"),
      new AesGcm([decodeKey(foreign, "foreign")]).encrypt("foreign gcm"),
    ];
    const path = `${dir}/secure.log`;
    await Deno.writeTextFile(path, lines.join("\n") + "\n");
    const result = await runCli(["decrypt", path], { env: { SLUICE_LOG_KEYS: key } });
    assert.equal(result.code, 1);
    assert.deepEqual(result.stdout.trimEnd().split("\n"), ["one", "three", "seven (aes-256-gcm)"]);
    const errors = result.stderr.trimEnd().split("\n");
    assert.match(errors[0]!, new RegExp(`^${path}:2: Signature matches none`));
    assert.match(errors[1]!, new RegExp(`^${path}:4: Not a whole Fernet token`));
    assert.match(errors[2]!, new RegExp(`^${path}:5: Signature matches none`));
    assert.match(errors[3]!, new RegExp(`^${path}:8: Line was written with key id`));
    assert.match(errors[4]!, /4 line\(s\) could not be decrypted, 3 decrypted/);
    assert.equal(errors.length, 5);
    assert.ok(!result.stderr.includes(key.slice(0, 12)), "keys never appear in the output");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice decrypt: reads gzip-compressed rotations and plain files in the order given", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const key = generateKey();
    const fernet = new Fernet([decodeKey(key, "key")]);
    const older = Array.from({ length: 300 }, (_, i) => fernet.encrypt(`old ${i}`)).join("\n");
    await Deno.writeFile(`${dir}/secure.log.1.gz`, await gzip(older + "\n"));
    await Deno.writeTextFile(`${dir}/secure.log`, fernet.encrypt("current") + "\n");
    const result = await runCli(
      ["decrypt", `${dir}/secure.log.1.gz`, `${dir}/secure.log`],
      { env: { SLUICE_LOG_KEYS: key } },
    );
    assert.equal(result.code, 0, result.stderr);
    const out = result.stdout.trimEnd().split("\n");
    assert.equal(out.length, 301);
    assert.equal(out[0], "old 0");
    assert.equal(out[299], "old 299");
    assert.equal(out[300], "current");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice decrypt: a truncated gzip file and a missing file are reported and the rest goes on", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const key = generateKey();
    const fernet = new Fernet([decodeKey(key, "key")]);
    const gz = await gzip(
      Array.from({ length: 2000 }, (_, i) => fernet.encrypt(`r${i}`)).join("\n"),
    );
    await Deno.writeFile(`${dir}/cut.gz`, gz.subarray(0, gz.length - 40));
    await Deno.writeTextFile(`${dir}/ok.log`, fernet.encrypt("fine") + "\n");
    const result = await runCli(
      ["decrypt", `${dir}/cut.gz`, `${dir}/missing.log`, `${dir}/ok.log`],
      { env: { SLUICE_LOG_KEYS: key } },
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`${dir}/cut.gz:\\d+: cannot read past this line`));
    assert.match(result.stderr, new RegExp(`${dir}/missing.log:0: cannot read file`));
    assert.equal(result.stdout.trimEnd().split("\n").at(-1), "fine");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice decrypt: a file that cannot be read is counted as a file, not as a line that failed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const key = generateKey();
    const fernet = new Fernet([decodeKey(key, "key")]);
    await Deno.writeTextFile(`${dir}/ok.log`, fernet.encrypt("fine") + "\nnot a token\n");
    const result = await runCli(
      ["decrypt", `${dir}/missing.log`, `${dir}/gone.log.1.gz`, `${dir}/ok.log`],
      { env: { SLUICE_LOG_KEYS: key } },
    );
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr.trimEnd().split("\n").at(-1),
      "sluice decrypt: 1 line(s) could not be decrypted, 2 file(s) could not be read " +
        "(or not to their end), 1 decrypted",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice decrypt: usage and key problems exit 2 with a message and no key", async () => {
  const noFile = await runCli(["decrypt"], { env: { SLUICE_LOG_KEYS: generateKey() } });
  assert.equal(noFile.code, 2);
  assert.match(noFile.stderr, /no file given/);
  const noKey = await runCli(["decrypt", "--keys-env", "DECRYPT_TEST_UNSET", "x.log"]);
  assert.equal(noKey.code, 2);
  assert.match(noKey.stderr, /Environment variable "DECRYPT_TEST_UNSET" is not set or is empty/);
  const short = generateKey().slice(0, 20);
  const bad = await runCli(["decrypt", "x.log"], { env: { SLUICE_LOG_KEYS: short } });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /decodes to 15 bytes; expected 32/);
  assert.ok(!bad.stderr.includes(short));
});
