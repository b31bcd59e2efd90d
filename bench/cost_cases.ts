/**
 * The workloads behind what rotation and security cost, shared by `deno task bench`
 * (rotating_file_bench.ts, security_bench.ts) and `deno task bench:costs` (costs.ts, which
 * interleaves them and writes the "costs" section of RESULTS.md).
 *
 * @module
 */

import { join } from "node:path";
import { createRecord, type Formatter, type LogRecord, type Sink } from "../mod.ts";
import { createBuiltin } from "./builtin.ts";
import { createRedactor } from "../plugins/processors/redact/mod.ts";
import { LineChain } from "../src/crypto/chain.ts";
import { generateKey } from "../src/crypto/keys.ts";
import { BUILTIN_PATTERN_NAMES } from "../plugins/processors/redact/patterns.ts";

/** One workload: `run()` does one iteration's work. */
export interface CostCase {
  name: string;
  /** The case the others are compared with. */
  baseline: boolean;
  run(): void;
  /** Waits for work `run()` left in the background (queued gzip compressions). */
  settle?(): Promise<void>;
}

/** Records per iteration of a rotation case: 20 batches of 1,000. */
export const ROTATION_RECORDS = 20_000;
/** Records per iteration of a security case. */
export const SECURITY_RECORDS = 1_000;

/**
 * The `file` sink (baseline) and `rotating_file` variants writing the same 20,000 JSON
 * records per iteration (about 3.2 MB: a 1 MiB variant rotates about three times per
 * iteration; the 64 KiB variant about fifty times, which shows what one rotation costs). `bytes` is what an iteration writes; `close()` disposes the sinks.
 */
export function rotationCases(
  dir: string,
): { cases: CostCase[]; bytes: number; close(): Promise<void> } {
  const batch: LogRecord[] = [];
  for (let i = 0; i < 1000; i++) {
    batch.push(createRecord({
      logger: "bench.rotate",
      message: `request handled in ${i} ms`,
      fields: { user: "ada", route: "/api/orders", status: 200 },
    }));
  }
  const json = createBuiltin("formatter", "json");
  const encoder = new TextEncoder();
  const bytes = 20 * batch.reduce((n, r) => n + encoder.encode(String(json(r))).length + 1, 0);
  const sinks: [string, Sink][] = [
    ["file", createBuiltin("sink", "file", { path: join(dir, "plain.log") }, dir)],
    [
      "rotating_file max_bytes 1MiB",
      createBuiltin("sink", "rotating_file", {
        path: join(dir, "size.log"),
        max_bytes: "1MiB",
        backups: 3,
      }, dir),
    ],
    [
      "rotating_file max_bytes 64KiB",
      createBuiltin("sink", "rotating_file", {
        path: join(dir, "small.log"),
        max_bytes: "64KiB",
        backups: 3,
      }, dir),
    ],
    [
      "rotating_file max_bytes 10MiB",
      createBuiltin("sink", "rotating_file", {
        path: join(dir, "big.log"),
        max_bytes: "10MiB",
        backups: 3,
      }, dir),
    ],
    [
      "rotating_file midnight + 1MiB",
      createBuiltin("sink", "rotating_file", {
        path: join(dir, "time.log"),
        when: "midnight",
        max_bytes: "1MiB",
        backups: 3,
      }, dir),
    ],
    [
      "rotating_file 1MiB + gzip",
      createBuiltin("sink", "rotating_file", {
        path: join(dir, "gzip.log"),
        max_bytes: "1MiB",
        backups: 3,
        compress: "gzip",
      }, dir),
    ],
  ];
  return {
    bytes,
    cases: sinks.map(([name, s]) => ({
      name,
      baseline: name === "file",
      run: () => {
        for (let i = 0; i < 20; i++) s.writeSync!(batch);
      },
      settle: () => (s as Sink & { settled?(): Promise<void> }).settled?.() ?? Promise.resolve(),
    })),
    async close() {
      for (const [, s] of sinks) await s[Symbol.asyncDispose]();
    },
  };
}

/**
 * The same bytes written without Sluice, to tell what the kernel charges for rotation: appended
 * to one file (baseline), written into new 1 MiB files, and into new files while the file four
 * rotations back is deleted (as `backups: 3` does). Each iteration writes `bytes` in 32 KiB
 * writes (the size of a sync batch).
 */
export function rawWriteCases(dir: string, bytes: number): { cases: CostCase[]; close(): void } {
  const chunk = new Uint8Array(32 * 1024).fill(0x61);
  const writes = Math.ceil(bytes / chunk.length);
  const open = (path: string) =>
    Deno.openSync(join(dir, path), { write: true, create: true, append: true });
  const appended = open("raw_append.log");
  const pending = new Set<Promise<void>>();
  const rotating = (name: string, unlink: boolean) => {
    let seq = 0;
    let size = 0;
    let file = open(`${name}.0`);
    return {
      run() {
        for (let i = 0; i < writes; i++) {
          file.writeSync(chunk);
          size += chunk.length;
          if (size < 1024 * 1024) continue;
          file.close();
          size = 0;
          seq++;
          if (unlink && seq > 4) {
            const done: Promise<void> = Deno.remove(join(dir, `${name}.${seq - 4}`))
              .finally(() => pending.delete(done));
            pending.add(done);
          }
          file = open(`${name}.${seq}`);
        }
      },
      close: () => file.close(),
    };
  };
  const kept = rotating("raw_new", false);
  const deleted = rotating("raw_deleted", true);
  return {
    cases: [
      {
        name: "append to one file",
        baseline: true,
        run: () => {
          for (let i = 0; i < writes; i++) appended.writeSync(chunk);
        },
      },
      { name: "new 1 MiB files", baseline: false, run: kept.run },
      {
        name: "new 1 MiB files, deleting old ones",
        baseline: false,
        run: deleted.run,
        settle: () => Promise.all(pending).then(() => {}),
      },
    ],
    close() {
      appended.close();
      kept.close();
      deleted.close();
    },
  };
}

/**
 * The `json` formatter alone (baseline), wrapped by `encrypted` (Fernet, AES-256-GCM) and by
 * `chain: true`'s HMAC chain, and after the `redact` processor (fields and every built-in
 * pattern); each iteration formats 1,000 records.
 */
export function securityCases(): CostCase[] {
  const keysEnv = "SLUICE_BENCH_KEYS";
  Deno.env.set(keysEnv, generateKey());
  const records: LogRecord[] = [];
  for (let i = 0; i < 1000; i++) {
    records.push(createRecord({
      logger: "payments",
      message: `User payment processed for order ${100000 + i} in ${i % 50} ms`,
      fields: { user_id: "12345", amount: 42.5, currency: "EUR", path: "/api/v1/pay", status: 200 },
    }));
  }
  const json = createBuiltin("formatter", "json");
  const redact = createRedactor({
    fields: ["password", "*.token", "card.number", "headers.authorization"],
    patterns: BUILTIN_PATTERN_NAMES,
    mode: "mask",
    mask: "[REDACTED]",
  });
  let total = 0;
  const run = (format: Formatter, pre?: (record: LogRecord) => LogRecord) => () => {
    for (const record of records) total += String(format(pre ? pre(record) : record)).length;
    // Keeps the work observable, so that no engine may skip it.
    if (total < 0) console.log(total);
  };
  return [
    { name: "json (baseline)", baseline: true, run: run(json) },
    {
      name: "encrypted fernet(json)",
      baseline: false,
      run: run(createBuiltin("formatter", "encrypted", { keys_env: keysEnv })),
    },
    {
      name: "encrypted aes-256-gcm(json)",
      baseline: false,
      run: run(
        createBuiltin("formatter", "encrypted", { keys_env: keysEnv, algorithm: "aes-256-gcm" }),
      ),
    },
    {
      name: "chain(json)",
      baseline: false,
      run: run(
        new LineChain(new TextEncoder().encode("a bench chain secret of 32 bytes")).wrap(json),
      ),
    },
    { name: "redact + json", baseline: false, run: run(json, redact) },
  ];
}
