/**
 * What security costs per record (`deno task bench`): the `json` formatter alone, wrapped by
 * the `encrypted` formatter (Fernet, AES-256-GCM), by `chain: true`'s HMAC chain, and after
 * the `redact` processor (fields and all built-in patterns). Each iteration formats 1,000
 * records (the workloads are in cost_cases.ts; `deno task bench:costs` interleaves them for
 * RESULTS.md). On a shared machine compare the `min` column.
 *
 * @module
 */

import { securityCases } from "./cost_cases.ts";

for (const c of securityCases()) {
  Deno.bench({ name: c.name, group: "security", baseline: c.baseline }, c.run);
}
