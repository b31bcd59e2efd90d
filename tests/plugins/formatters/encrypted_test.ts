import assert from "node:assert/strict";
import { ConfigError, configure, getLogger, shutdown } from "../../../mod.ts";
import { parseConfigText } from "../../../src/config/load.ts";
import { Keyring } from "../../../src/crypto/decrypt_stream.ts";
import { decodeKey, generateKey } from "../../../src/crypto/keys.ts";
import { Pipeline } from "../../../src/pipeline/pipeline.ts";
import { pythonCryptography, skipWithout } from "../../helpers/peers.ts";
import { runPython } from "../../helpers/run_python.ts";

const python = pythonCryptography();
const decoder = new TextDecoder();

/** Sets environment variables for the duration of `fn`. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  for (const [name, value] of Object.entries(vars)) Deno.env.set(name, value);
  try {
    return await fn();
  } finally {
    for (const name of Object.keys(vars)) Deno.env.delete(name);
  }
}

/** Logs `count` records with ids from `first` through an encrypted file sink. */
async function logEncrypted(
  path: string,
  format: Record<string, unknown>,
  first: number,
  count: number,
): Promise<void> {
  await configure({
    sources: { app: { type: "logger" } },
    sinks: { secure: { type: "file", path, format: { type: "encrypted", ...format } } },
  });
  const log = getLogger("payments");
  for (let i = first; i < first + count; i++) {
    log.info("User payment processed", { id: i, user_id: "12345", note: "ü€ " + i });
  }
  await shutdown();
}

Deno.test({
  name: "encrypted: 1,000 records written by a pipeline are all decrypted by Python's Fernet",
  ignore: skipWithout(python),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const key = generateKey();
      const path = `${dir}/secure.log`;
      await withEnv(
        { ENCRYPTED_TEST_KEYS: key },
        () => logEncrypted(path, { keys_env: "ENCRYPTED_TEST_KEYS", inner: "json" }, 0, 1000),
      );
      const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
      assert.equal(lines.length, 1000);
      const out = await runPython(
        python.command,
        `
import sys, json
from cryptography.fernet import Fernet
f = Fernet(${JSON.stringify(key)}.encode())
with open(${JSON.stringify(path)}) as fh:
    print(json.dumps([json.loads(f.decrypt(line.strip().encode())) for line in fh]))
`,
      );
      const records = JSON.parse(out) as Record<string, unknown>[];
      assert.equal(records.length, 1000);
      records.forEach((record, i) => {
        assert.equal(record.id, i);
        assert.equal(record.message, "User payment processed");
        assert.equal(record.logger, "payments");
        assert.equal(record.level, "INFO");
        assert.equal(record.note, "ü€ " + i);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "encrypted: rotating keys (new first) keeps old lines readable by Python's MultiFernet",
  ignore: skipWithout(python),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const [oldKey, newKey] = [generateKey(), generateKey()];
      const path = `${dir}/secure.log`;
      await withEnv(
        { ENCRYPTED_TEST_KEYS: oldKey },
        () => logEncrypted(path, { keys_env: "ENCRYPTED_TEST_KEYS" }, 0, 500),
      );
      await withEnv(
        { ENCRYPTED_TEST_KEYS: `${newKey},${oldKey}` },
        () => logEncrypted(path, { keys_env: "ENCRYPTED_TEST_KEYS" }, 500, 500),
      );
      const out = await runPython(
        python.command,
        `
import json
from cryptography.fernet import Fernet, MultiFernet, InvalidToken
new, old = Fernet(${JSON.stringify(newKey)}.encode()), Fernet(${JSON.stringify(oldKey)}.encode())
multi = MultiFernet([new, old])
ids, by_new = [], []
with open(${JSON.stringify(path)}) as fh:
    for line in fh:
        token = line.strip().encode()
        ids.append(json.loads(multi.decrypt(token))["id"])
        try:
            new.decrypt(token)
            by_new.append(True)
        except InvalidToken:
            by_new.append(False)
print(json.dumps({"ids": ids, "by_new": by_new}))
`,
      );
      const { ids, by_new } = JSON.parse(out) as { ids: number[]; by_new: boolean[] };
      assert.deepEqual(ids, Array.from({ length: 1000 }, (_, i) => i));
      // The first key encrypts: lines before the rotation need the old key, after it the new one.
      assert.deepEqual(by_new, Array.from({ length: 1000 }, (_, i) => i >= 500));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("encrypted: aes-256-gcm writes one line per record, even a multi-line text record", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const key = generateKey();
    const path = `${dir}/secure.log`;
    await withEnv({ ENCRYPTED_TEST_KEYS: key }, async () => {
      await configure({
        sources: { app: { type: "logger" } },
        sinks: {
          secure: {
            type: "file",
            path,
            format: {
              type: "encrypted",
              algorithm: "aes-256-gcm",
              keys_env: "ENCRYPTED_TEST_KEYS",
              inner: { type: "text", pattern: "{level} {message}" },
            },
          },
        },
      });
      const log = getLogger("app");
      log.info("first");
      log.error("failed", { error: new Error("boom") });
      log.info("third");
      await shutdown();
    });
    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
    assert.equal(lines.length, 3);
    const keyring = new Keyring([decodeKey(key, "key")]);
    const plain = lines.map((line) => {
      assert.match(line, /^gcm1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+$/);
      return decoder.decode(keyring.decrypt(line));
    });
    assert.equal(plain[0], "INFO first");
    assert.match(plain[1]!, /^ERROR failed\nError: boom\n\s+at /);
    assert.equal(plain[2], "INFO third");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("encrypted: keys: ${VAR} takes the keys from the environment, as the issue's YAML shows", async () => {
  const key = generateKey();
  const dir = await Deno.makeTempDir();
  try {
    const yaml = `
sources: { app: { type: logger } }
sinks:
  secure:
    type: file
    path: secure.log
    format:
      type: encrypted
      keys: \${ENCRYPTED_TEST_KEYS}
      inner: { type: text, pattern: "{level} {message}" }
`;
    const loaded = await parseConfigText(yaml, `${dir}/sluice.yaml`, {
      env: { ENCRYPTED_TEST_KEYS: key },
    });
    const pipeline = await Pipeline.create(loaded.config, { formatters: loaded.formatters });
    await pipeline.shutdown();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("encrypted: a key written into the YAML is a config error that says why and hides the key", async () => {
  const key = generateKey();
  const yaml = `
sinks:
  secure:
    type: file
    path: secure.log
    format:
      type: encrypted
      keys: ${key}
`;
  let message = "";
  try {
    await parseConfigText(yaml, "sluice.yaml", { env: {} });
    assert.fail("expected a config error");
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    message = error.message;
  }
  assert.match(
    message,
    /sluice\.yaml:8:\d+: sinks\.secure\.format\.keys: A key is written into the config/,
  );
  assert.match(message, /refer to it as \$\{VAR\}, or use keys_env or key_file/);
  assert.match(message, /allow_inline_key: true/);
  assert.ok(!message.includes(key.slice(0, 10)), message);
});

Deno.test("encrypted: keys_env: ${VAR} (a value instead of a name) is a config error that hides the value", async () => {
  const key = generateKey();
  const yaml = `
sinks:
  secure:
    type: file
    path: secure.log
    format:
      type: encrypted
      keys_env: \${ENCRYPTED_TEST_KEYS}
`;
  let message = "";
  try {
    await parseConfigText(yaml, "sluice.yaml", { env: { ENCRYPTED_TEST_KEYS: key } });
    assert.fail("expected a config error");
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    message = error.message;
  }
  assert.match(message, /sluice\.yaml:8:\d+/);
  assert.match(message, /the name of an environment variable/);
  assert.ok(!message.includes(key.slice(0, 10)), message);
});

Deno.test("encrypted: allow_inline_key accepts a key in the config; key_file reads a file next to it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const key = generateKey();
    await Deno.writeTextFile(`${dir}/log.keys`, `${key}\n`, { mode: 0o600 });
    const formats = [{ keys: key, allow_inline_key: true }, { key_file: "log.keys" }];
    for (const [i, format] of formats.entries()) {
      await configure({
        sources: { app: { type: "logger" } },
        sinks: {
          secure: { type: "file", path: `out${i}.log`, format: { type: "encrypted", ...format } },
        },
      }, { baseDir: dir });
      getLogger("app").info(`record ${i}`);
      await shutdown();
      const line = (await Deno.readTextFile(`${dir}/out${i}.log`)).trimEnd();
      const plain = decoder.decode(new Keyring([decodeKey(key, "key")]).decrypt(line));
      assert.equal(JSON.parse(plain).message, `record ${i}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("encrypted: records_encrypted_total counts in /metrics, and no key appears there", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const key = generateKey();
    await withEnv({ ENCRYPTED_TEST_KEYS: key }, async () => {
      const pipeline = await configure({
        sources: { app: { type: "logger" } },
        sinks: {
          secure: {
            type: "file",
            path: `${dir}/secure.log`,
            format: { type: "encrypted", keys_env: "ENCRYPTED_TEST_KEYS" },
          },
        },
      });
      for (let i = 0; i < 25; i++) getLogger("app").info("x");
      await pipeline.flush();
      const metrics = pipeline.metrics.render();
      await shutdown();
      assert.match(
        metrics,
        /sluice_records_encrypted_total\{component="secure",algorithm="fernet"\} 25/,
      );
      assert.ok(!metrics.includes(key.slice(0, 10)));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
