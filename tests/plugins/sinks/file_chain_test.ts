import assert from "node:assert/strict";
import { configure, getLogger, shutdown } from "../../../mod.ts";
import { verifyChain } from "../../../src/crypto/chain.ts";
import { Keyring, readLines } from "../../../src/crypto/decrypt_stream.ts";
import { decodeKey, generateKey } from "../../../src/crypto/keys.ts";

const SECRET = "file-chain test secret, long enough";
const secret = new TextEncoder().encode(SECRET);

async function withChainKey<T>(fn: () => Promise<T>): Promise<T> {
  Deno.env.set("SLUICE_CHAIN_KEY", SECRET);
  try {
    return await fn();
  } finally {
    Deno.env.delete("SLUICE_CHAIN_KEY");
  }
}

async function verifyFile(path: string) {
  return await verifyChain(readLines(path, { keepCarriageReturns: true }), secret);
}

function fileSink(path: string, extra: Record<string, unknown> = {}) {
  return {
    sources: { app: { type: "logger" } },
    sinks: { out: { type: "file", path, chain: true, ...extra } },
  };
}

Deno.test("file sink chain: true writes JSON lines that stay JSON and verify, 1,000 records", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/app.log`;
    await withChainKey(async () => {
      await configure(fileSink(path));
      const log = getLogger("app");
      for (let i = 0; i < 1000; i++) log.info("record", { i });
      await shutdown();
    });
    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
    assert.equal(lines.length, 1000);
    lines.forEach((line, i) => {
      const parsed = JSON.parse(line);
      assert.equal(parsed.i, i);
      assert.match(parsed.chain, /^[A-Za-z0-9_-]{43}$/);
    });
    assert.deepEqual(await verifyFile(path), { records: 1000, lines: 1000 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file sink chain continues across restarts that append to the same file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/app.log`;
    await withChainKey(async () => {
      for (let run = 0; run < 3; run++) {
        await configure(fileSink(path, { format: "logfmt" }));
        for (let i = 0; i < 10; i++) getLogger("app").info(`run ${run} record ${i}`);
        await shutdown();
      }
    });
    assert.deepEqual(await verifyFile(path), { records: 30, lines: 30 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file sink chain starts afresh in the new file after logrotate moves the old one (reopen)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/app.log`;
    await withChainKey(async () => {
      const pipeline = await configure(fileSink(path));
      for (let i = 0; i < 5; i++) getLogger("app").info(`before ${i}`);
      await pipeline.flush();
      await Deno.rename(path, `${path}.1`);
      pipeline.reopen();
      for (let i = 0; i < 7; i++) getLogger("app").info(`after ${i}`);
      await shutdown();
    });
    assert.deepEqual(await verifyFile(`${path}.1`), { records: 5, lines: 5 });
    assert.deepEqual(await verifyFile(path), { records: 7, lines: 7 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file sink chain covers multi-line text records (stack traces) as one record", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/app.log`;
    await withChainKey(async () => {
      await configure(fileSink(path, { format: { type: "text", pattern: "{level} {message}" } }));
      const log = getLogger("app");
      log.info("one");
      log.error("failed", { error: new Error("boom") });
      log.info("three");
      await shutdown();
    });
    const report = await verifyFile(path);
    assert.equal(report.broken, undefined);
    assert.equal(report.records, 3);
    assert.ok(report.lines > 4, "the stack trace spans several lines");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file sink chain over encrypted lines: the chain verifies without keys, decrypt ignores the MAC", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/secure.log`;
    const key = generateKey();
    Deno.env.set("FILE_CHAIN_TEST_KEYS", key);
    try {
      await withChainKey(async () => {
        await configure(fileSink(path, {
          format: { type: "encrypted", algorithm: "aes-256-gcm", keys_env: "FILE_CHAIN_TEST_KEYS" },
        }));
        for (let i = 0; i < 20; i++) getLogger("app").info(`secret ${i}`);
        await shutdown();
      });
    } finally {
      Deno.env.delete("FILE_CHAIN_TEST_KEYS");
    }
    assert.deepEqual(await verifyFile(path), { records: 20, lines: 20 });
    const keyring = new Keyring([decodeKey(key, "key")]);
    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
    lines.forEach((line, i) => {
      assert.match(line, / chain=[A-Za-z0-9_-]{43}$/);
      assert.equal(
        JSON.parse(new TextDecoder().decode(keyring.decrypt(line))).message,
        `secret ${i}`,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file sink chain: a missing secret stops the sink from starting, naming the variable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => configure(fileSink(`${dir}/app.log`, { chain: { key_env: "FILE_CHAIN_UNSET" } })),
      /Cannot open sink "out": chain secret: Environment variable "FILE_CHAIN_UNSET" is not set/,
    );
    let message = "";
    try {
      await configure(fileSink(`${dir}/app.log`, { chain: { key_env: "${CHAIN}" } }), {
        env: { CHAIN: "the-secret-value-itself" },
      });
    } catch (error) {
      message = String(error);
    }
    assert.match(
      message,
      /sinks\.out\.chain\.key_env: Expected the name of an environment variable/,
    );
    assert.ok(!message.includes("the-secret-value-itself"), message);
  } finally {
    await shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
