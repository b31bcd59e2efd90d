/**
 * Posting NDJSON records to a running `http` source, for end-to-end tests.
 *
 * @module
 */

import assert from "node:assert/strict";

/**
 * Posts `requests` requests of 50 JSON records of about 100 bytes each to `${url}/ingest`,
 * one after another, and checks that each is accepted (status 200).
 *
 * @example Against a stand-in server counting the lines
 * ```ts
 * import assert from "node:assert/strict";
 * import { postRecords } from "./post_records.ts";
 * let lines = 0;
 * await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
 *   lines += (await req.text()).split("\n").length;
 *   return new Response("ok");
 * });
 * await postRecords(`http://127.0.0.1:${server.addr.port}`, 2);
 * assert.equal(lines, 100);
 * ```
 */
export async function postRecords(url: string, requests: number): Promise<void> {
  for (let request = 0; request < requests; request++) {
    const body = Array.from(
      { length: 50 },
      (_, i) => JSON.stringify({ msg: `record ${request}-${i} `.padEnd(100, "x") }),
    ).join("\n");
    const res = await fetch(`${url}/ingest`, { method: "POST", body });
    assert.equal(res.status, 200, await res.text());
  }
}
