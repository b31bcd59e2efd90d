/**
 * What security costs per record (`deno task bench`): the `json` formatter alone, wrapped by
 * the `encrypted` formatter (Fernet, AES-256-GCM), by `chain: true`'s HMAC chain, and after
 * the `redact` processor (fields and all built-in patterns). Each iteration formats 1,000
 * records. On a shared machine compare the `min` column.
 *
 * @module
 */

import {
  createRecord,
  type Formatter,
  loadBuiltins,
  type LogRecord,
  type PluginContext,
} from "../mod.ts";
import { createRedactor } from "../plugins/processors/redact.ts";
import { LineChain } from "../src/crypto/chain.ts";
import { generateKey } from "../src/crypto/keys.ts";
import { BUILTIN_PATTERN_NAMES } from "../src/redact/patterns.ts";

const builtins = await loadBuiltins();

const KEYS_ENV = "SLUICE_BENCH_KEYS";
Deno.env.set(KEYS_ENV, generateKey());

function formatter(type: string, options: Record<string, unknown> = {}): Formatter {
  const definition = builtins.find((p) => p.kind === "formatter" && p.type === type)!;
  const ctx = { issues: [] };
  const parsed = definition.options.parse(options, [], ctx);
  if (!parsed || ctx.issues.length) throw new Error(JSON.stringify(ctx.issues));
  const context: PluginContext = {
    id: "bench",
    baseDir: Deno.cwd(),
    dataDir: Deno.cwd(),
    createFormatter: (spec) => formatter(spec.type, spec.options),
    counter: () => ({ inc() {}, value: 0 }),
    log: { warnOnce() {}, info() {} },
    signal: new AbortController().signal,
  };
  return definition.create(parsed as never, context as never) as Formatter;
}

const records: LogRecord[] = [];
for (let i = 0; i < 1000; i++) {
  records.push(createRecord({
    logger: "payments",
    message: `User payment processed for order ${100000 + i} in ${i % 50} ms`,
    fields: { user_id: "12345", amount: 42.5, currency: "EUR", path: "/api/v1/pay", status: 200 },
  }));
}

const json = formatter("json");
const fernet = formatter("encrypted", { keys_env: KEYS_ENV });
const gcm = formatter("encrypted", { keys_env: KEYS_ENV, algorithm: "aes-256-gcm" });
const chained = new LineChain(new TextEncoder().encode("a bench chain secret of 32 bytes")).wrap(
  json,
);
const redact = createRedactor({
  fields: ["password", "*.token", "card.number", "headers.authorization"],
  patterns: BUILTIN_PATTERN_NAMES,
  mode: "mask",
  mask: "[REDACTED]",
});

let sink = 0;
function run(format: Formatter, pre?: (record: LogRecord) => LogRecord): void {
  for (const record of records) sink += String(format(pre ? pre(record) : record)).length;
}

Deno.bench("json (baseline)", { group: "security", baseline: true }, () => run(json));
Deno.bench("encrypted fernet(json)", { group: "security" }, () => run(fernet));
Deno.bench("encrypted aes-256-gcm(json)", { group: "security" }, () => run(gcm));
Deno.bench("chain(json)", { group: "security" }, () => run(chained));
Deno.bench("redact + json", { group: "security" }, () => run(json, redact));

globalThis.addEventListener("unload", () => {
  if (sink < 0) console.log(sink);
});
