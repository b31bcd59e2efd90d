import assert from "node:assert/strict";
import { RateLimiter } from "../../src/server/rate_limiter.ts";

Deno.test("rate_limiter refills at requests_per_second up to burst (controlled clock)", () => {
  let now = 0;
  const limiter = new RateLimiter({ requestsPerSecond: 10, burst: 5, now: () => now });
  for (let i = 0; i < 5; i++) assert.equal(limiter.take("a"), 0);
  assert.equal(limiter.take("a"), 0.1);
  now += 10_000; // a long pause refills to burst, not beyond
  for (let i = 0; i < 5; i++) assert.equal(limiter.take("a"), 0);
  assert.ok(limiter.take("a") > 0);
});

Deno.test("rate_limiter with requests_per_second 0 never limits", () => {
  const limiter = new RateLimiter({ requestsPerSecond: 0, burst: 1 });
  assert.equal(limiter.enabled, false);
  for (let i = 0; i < 100; i++) assert.equal(limiter.take("a"), 0);
  assert.equal(limiter.size, 0);
});

Deno.test("rate_limiter keeps at most max_clients buckets, forgetting idle ones before active ones", () => {
  let now = 0;
  const limiter = new RateLimiter({
    requestsPerSecond: 1,
    burst: 2,
    now: () => now,
    maxClients: 100,
  });
  for (let i = 0; i < 99; i++) assert.equal(limiter.take(`one-off-${i}`), 0);
  now += 5_000; // the one-off clients' buckets are full again: idle
  assert.equal(limiter.take("busy"), 0);
  assert.equal(limiter.take("busy"), 0);
  assert.equal(limiter.size, 100);
  assert.equal(limiter.take("newcomer"), 0);
  assert.equal(limiter.size, 2, "the idle buckets were forgotten");
  assert.equal(limiter.take("busy"), 1, "the active client is still limited");
  for (let i = 0; i < 10_000; i++) limiter.take(`flood-${i}`);
  assert.ok(limiter.size <= 100, `size ${limiter.size}`);
});
