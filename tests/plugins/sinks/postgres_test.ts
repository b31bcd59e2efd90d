import assert from "node:assert/strict";
import postgres from "postgres";
import postgresSink from "../../../plugins/sinks/postgres/mod.ts";
import tcpSource from "../../../plugins/sources/tcp.ts";
import query from "../../../src/cli/commands/query.ts";
import { parseConfigText } from "../../../src/config/load.ts";
import { createRecord } from "../../../src/core/record.ts";
import { createInternalLog } from "../../../src/pipeline/internal_log.ts";
import { Metrics } from "../../../src/pipeline/metrics.ts";
import { DeliveryError } from "../../../src/plugin/delivery_error.ts";
import type { PluginContext, Sink } from "../../../src/plugin/types.ts";
import type { ParseContext } from "../../../src/schema/schema.ts";
import { counter, freePort, startPipeline, waitFor } from "../../helpers/net_pipeline.ts";
import { postgresPeer, startPostgres } from "../../helpers/postgres_server.ts";
import { skipWithout } from "../../helpers/peers.ts";

const ignore = skipWithout(postgresPeer());
const T0 = Date.UTC(2026, 11, 2, 8, 0, 0);
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

async function send(port: number, lines: string[]): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const data = new TextEncoder().encode(lines.join("\n") + "\n");
  let offset = 0;
  while (offset < data.length) offset += await conn.write(data.subarray(offset));
  conn.close();
}

Deno.test({
  name:
    "postgres sink: batched rows with jsonb fields and indexes, a concurrent start migrates once, a restart of the database loses nothing, sluice query --postgres-env reads it",
  ignore,
  async fn() {
    const pg = await startPostgres();
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      // An older table without span_id and service: the sink adds them.
      await sql.unsafe(
        `CREATE TABLE logs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, time timestamptz NOT NULL,
         level smallint NOT NULL, logger text NOT NULL, message text NOT NULL, trace_id text,
         fields jsonb NOT NULL, error jsonb)`,
      );
      const port = freePort();
      // Two sinks on one table start together: the advisory lock serializes the migration.
      const pipeline = await startPipeline({
        sources: { lines: { type: "tcp", address: `127.0.0.1:${port}` } },
        sinks: {
          db: {
            type: "postgres",
            url: pg.url,
            service: "default-svc",
            batch: { max_records: 300 },
          },
          twin: { type: "postgres", url: pg.url, level: "critical" },
        },
      }, [tcpSource, postgresSink]);
      const lines = Array.from({ length: 1000 }, (_, i) =>
        JSON.stringify({
          time: T0 + i,
          level: i % 10 === 0 ? "error" : "info",
          logger: "shop.api",
          message: `request ${i}\u0000`,
          ...(i % 2 === 0 ? { service: "payment" } : {}),
          ...(i === 500 ? { trace_id: TRACE, span_id: "00f067aa0ba902b7" } : {}),
          user: i === 7 ? "Ada Lovelace" : "bob",
        }));
      await send(port, lines.slice(0, 500));
      await waitFor(
        () => counter(pipeline, "records_out_total", { component: "db" }) === 500,
        () => `${counter(pipeline, "records_out_total", { component: "db" })} rows`,
      );
      // The database dies and comes back: the sink's writes fail, are retried, then land.
      await pg.kill();
      await send(port, lines.slice(500));
      await new Promise((resolve) => setTimeout(resolve, 500));
      await pg.restart();
      await waitFor(
        () => counter(pipeline, "records_out_total", { component: "db" }) === 1000,
        () => `${counter(pipeline, "records_out_total", { component: "db" })} rows after restart`,
      );
      await pipeline.shutdown();
      assert.equal(counter(pipeline, "records_dropped_total"), 0);

      const rows = await sql`SELECT * FROM logs ORDER BY id`;
      assert.equal(rows.length, 1000);
      const r = rows[500]!;
      assert.equal((r.time as Date).getTime(), T0 + 500);
      assert.equal(r.level, 40);
      assert.equal(r.message, "request 500\ufffd", "NUL, which PostgreSQL refuses, replaced");
      assert.equal(r.trace_id, TRACE);
      assert.equal(r.span_id, "00f067aa0ba902b7");
      assert.equal(r.service, "payment");
      assert.deepEqual(r.fields, { service: "payment", user: "bob" });
      assert.equal(rows[1]!.service, "default-svc");
      const types = await sql`SELECT column_name, data_type FROM information_schema.columns
        WHERE table_name = 'logs' AND column_name IN ('fields', 'time')`;
      assert.deepEqual(
        Object.fromEntries(types.map((t) => [t.column_name, t.data_type])),
        { fields: "jsonb", time: "timestamp with time zone" },
      );
      const indexes = (await sql`SELECT indexname FROM pg_indexes WHERE tablename = 'logs'`)
        .map((i) => i.indexname).sort();
      assert.deepEqual(indexes, [
        "logs_level",
        "logs_pkey",
        "logs_service",
        "logs_time",
        "logs_trace_id",
      ]);

      let out = "";
      const code = await query.run(
        ["--postgres-env", "LOGS_DB", "--level", "error", "--service", "payment", "--limit", "3"],
        {
          stdout: (text) => out += text,
          now: () => T0 + 60_000,
          getEnv: (name) => name === "LOGS_DB" ? pg.url : undefined,
        },
      );
      assert.equal(code, 0);
      assert.deepEqual(out.trimEnd().split("\n").map((line) => line.match(/request \d+/)?.[0]), [
        "request 970",
        "request 980",
        "request 990",
      ]);
      out = "";
      await query.run(["--postgres", pg.url, "--trace", TRACE, "--format", "json"], {
        stdout: (text) => out += text,
      });
      assert.equal(JSON.parse(out).message, "request 500\ufffd");
    } finally {
      await sql.end({ timeout: 1 });
      await pg.stop();
    }
  },
});

Deno.test({
  name: "postgres sink: retention deletes records older than max_age",
  ignore,
  async fn() {
    const pg = await startPostgres();
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const now = Date.now();
      const first = await startPipeline({
        sources: { lines: { type: "tcp", address: `127.0.0.1:${freePort()}` } },
        sinks: { db: { type: "postgres", url: pg.url } },
      }, [tcpSource, postgresSink]);
      await first.shutdown();
      await sql`INSERT INTO logs (time, level, logger, message, fields)
        VALUES (to_timestamp(${now / 1000}), 20, 'new', 'kept 2', '{}')`;
      await sql`INSERT INTO logs (time, level, logger, message, fields)
        SELECT to_timestamp(${(now - 3 * 86_400_000) / 1000}), 20, 'old', 'old ' || g, '{}'
        FROM generate_series(1, 5) g`;
      const retaining = await startPipeline({
        sources: { lines: { type: "tcp", address: `127.0.0.1:${freePort()}` } },
        sinks: { db: { type: "postgres", url: pg.url, retention: { max_age: "2d", max_rows: 1 } } },
      }, [tcpSource, postgresSink]);
      await waitFor(
        () => counter(retaining, "records_expired_total", { component: "db" }) === 5,
        () => `${counter(retaining, "records_expired_total", { component: "db" })} expired`,
      );
      await retaining.shutdown();
      assert.deepEqual((await sql`SELECT message FROM logs`).map((r) => r.message), ["kept 2"]);
    } finally {
      await sql.end({ timeout: 1 });
      await pg.stop();
    }
  },
});

Deno.test("postgres sink: a password written into the URL is refused; one from ${DATABASE_URL} is not echoed", async () => {
  const yaml = (url: string) => `
sources:
  app: { type: logger }
sinks:
  db: { type: postgres, url: "${url}" }
`;
  await assert.rejects(
    () => parseConfigText(yaml("postgres://sluice:hunter2@db:5432/logs"), "a.yaml"),
    (error: Error) => {
      assert.match(error.message, /a\.yaml:5:\d+: sinks\.db\.url: The URL holds a password/);
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    },
  );
  const { config } = await parseConfigText(yaml("${DATABASE_URL}"), "a.yaml", {
    env: { DATABASE_URL: "postgres://sluice:hunter2@db:5432/logs" },
  });
  assert.equal(config.sinks.db?.type, "postgres");
  assert.deepEqual(
    postgresSink.permissions!(config.sinks.db!.options as never, { baseDir: ".", dataDir: "." }),
    { net: ["db:5432"] },
  );
});

Deno.test({
  name:
    "postgres sink: records the database refuses as data are split out of the batch, the rest is written",
  ignore,
  async fn() {
    const pg = await startPostgres();
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    const metrics = new Metrics();
    const context: PluginContext = {
      id: "db",
      baseDir: Deno.cwd(),
      dataDir: Deno.cwd(),
      signal: new AbortController().signal,
      log: createInternalLog(metrics, () => {}),
      createFormatter: () => () => "",
      counter: (name, help, labels) => metrics.counter(name, help, { component: "db", ...labels }),
    };
    const ctx: ParseContext = { issues: [] };
    const options = postgresSink.options.parse({ url: pg.url }, [], ctx)!;
    const sink = await postgresSink.create(options, context) as Sink;
    try {
      // Year 318,857: past the year 294,276 that ends timestamptz's range (SQLSTATE 22008).
      const refused = createRecord({ message: "refused" });
      refused.time = 1e16;
      const batch = [
        createRecord({ message: "kept 1" }),
        refused,
        createRecord({ message: "kept 2" }),
      ];
      await assert.rejects(
        async () => await sink.write(batch),
        (error: unknown) => {
          assert.ok(error instanceof DeliveryError);
          assert.equal(error.retryable, false);
          assert.match(error.reason, /^postgres_22/);
          assert.deepEqual(error.records, [refused]);
          return true;
        },
      );
      assert.deepEqual((await sql`SELECT message FROM logs ORDER BY id`).map((r) => r.message), [
        "kept 1",
        "kept 2",
      ]);
    } finally {
      await sink[Symbol.asyncDispose]();
      await sql.end({ timeout: 1 });
      await pg.stop();
    }
  },
});
