import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import sqliteSink from "../../../plugins/sinks/sqlite/mod.ts";
import tcpSource from "../../../plugins/sources/tcp.ts";
import query from "../../../src/cli/commands/query.ts";
import { loadConfig } from "../../../src/config/load.ts";
import { ConfigError } from "../../../src/config/config_error.ts";
import { counter, freePort, startPipeline, waitFor } from "../../helpers/net_pipeline.ts";

const T0 = Date.UTC(2026, 11, 2, 8, 0, 0);
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

async function send(port: number, text: string): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const data = new TextEncoder().encode(text);
  let offset = 0;
  while (offset < data.length) offset += await conn.write(data.subarray(offset));
  conn.close();
}

function rows(path: string, sql: string): Record<string, unknown>[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

async function runQuery(args: string[], now = T0 + 60_000): Promise<string> {
  let out = "";
  const code = await query.run(args, { stdout: (text) => out += text, now: () => now });
  assert.equal(code, 0);
  return out;
}

Deno.test("sqlite sink stores what a TCP source receives, one row per record, and sluice query filters it", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/db/sluice.db`;
  try {
    const port = freePort();
    const pipeline = await startPipeline({
      sources: { lines: { type: "tcp", address: `127.0.0.1:${port}` } },
      sinks: { db: { type: "sqlite", path, service: "default-svc" } },
    }, [tcpSource, sqliteSink]);
    let text = "";
    for (let i = 0; i < 1000; i++) {
      text += JSON.stringify({
        time: T0 + i,
        level: i % 10 === 0 ? "error" : "info",
        logger: "shop.api",
        message: `request ${i}`,
        ...(i % 2 === 0 ? { service: "payment" } : {}),
        ...(i === 500 ? { trace_id: TRACE, span_id: "00f067aa0ba902b7" } : {}),
        user: i === 7 ? "Ada Lovelace" : "bob",
      }) + "\n";
    }
    await send(port, text);
    await waitFor(
      () => counter(pipeline, "records_out_total", { component: "db" }) === 1000,
      () => `${counter(pipeline, "records_out_total", { component: "db" })} rows`,
    );
    await pipeline.shutdown();

    const all = rows(path, "SELECT * FROM logs ORDER BY id");
    assert.equal(all.length, 1000);
    assert.deepEqual({ ...all[500] }, {
      id: 501,
      time: T0 + 500,
      level: 40,
      logger: "shop.api",
      message: "request 500",
      trace_id: TRACE,
      span_id: "00f067aa0ba902b7",
      service: "payment",
      // Ingest lifts valid W3C ids onto the record: they are columns, not fields.
      fields: JSON.stringify({ service: "payment", user: "bob" }),
      error: null,
    });
    assert.equal(all[1]!.service, "default-svc");
    assert.equal(rows(path, "PRAGMA journal_mode")[0]!.journal_mode, "wal");
    const indexes = rows(path, "PRAGMA index_list(logs)").map((r) => r.name).sort();
    assert.deepEqual(indexes, ["logs_level", "logs_service", "logs_time", "logs_trace_id"]);

    // The newest 3 errors of payment, oldest first.
    const errors = await runQuery([
      "--sqlite",
      path,
      "--level",
      "error",
      "--service",
      "payment",
      "--limit",
      "3",
    ]);
    assert.deepEqual(errors.trimEnd().split("\n").map((line) => line.match(/request \d+/)?.[0]), [
      "request 970",
      "request 980",
      "request 990",
    ]);
    assert.match(errors, /ERROR shop\.api - request 990 service=payment user=bob/);

    const traced = JSON.parse(
      await runQuery(["--sqlite", path, "--trace", TRACE, "--format", "json"]),
    );
    assert.equal(traced.message, "request 500");
    assert.equal(traced.trace_id, TRACE);
    assert.equal(traced.level, "ERROR");

    // --grep looks into the message and the fields, case-insensitively, taking % literally.
    assert.match(await runQuery(["--sqlite", path, "--grep", "ada love"]), /request 7 /);
    assert.equal(await runQuery(["--sqlite", path, "--grep", "%"]), "");
    // --since: the clock is one minute after T0; records are at T0 + i ms.
    assert.equal(await runQuery(["--sqlite", path, "--since", "30s"]), "");
    const recent = await runQuery(["--sqlite", path, "--since", "61s", "--limit", "1000"]);
    assert.equal(recent.trimEnd().split("\n").length, 1000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite sink migrates an older table (columns and indexes added) and refuses a column of another type", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/old.db`;
  try {
    const db = new DatabaseSync(path);
    db.exec(
      "CREATE TABLE logs (id INTEGER PRIMARY KEY, time INTEGER NOT NULL, level INTEGER NOT NULL, " +
        "logger TEXT NOT NULL, message TEXT NOT NULL, fields TEXT NOT NULL)",
    );
    db.exec(
      `INSERT INTO logs (time, level, logger, message, fields) VALUES (${T0}, 20, 'a', 'old', '{}')`,
    );
    db.exec("CREATE TABLE odd (time TEXT, level INTEGER, message TEXT)");
    db.close();

    const pipeline = await startPipeline({
      sinks: { db: { type: "sqlite", path }, other: { type: "memory", name: "sqlite_migrate" } },
    }, [sqliteSink]);
    await pipeline.shutdown();
    const columns = rows(path, "PRAGMA table_info(logs)").map((r) => r.name);
    assert.deepEqual(columns, [
      "id",
      "time",
      "level",
      "logger",
      "message",
      "fields",
      "trace_id",
      "span_id",
      "service",
      "error",
    ]);
    assert.equal(rows(path, "PRAGMA index_list(logs)").length, 4);
    assert.match(await runQuery(["--sqlite", path]), /INFO a - old/);

    const { config, formatters } = await loadConfig({
      sinks: { db: { type: "sqlite", path, table: "odd" } },
    }, { plugins: [sqliteSink] });
    const { Pipeline } = await import("../../../src/pipeline/pipeline.ts");
    await assert.rejects(
      Pipeline.create(config, { formatters }),
      /Cannot open sink "db": table "odd" in ".*old\.db": table "odd" has column "time" of type TEXT, expected INTEGER/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite sink options: a table that is not an identifier is a config error with its path", async () => {
  const error = await loadConfig({
    sinks: {
      db: { type: "sqlite", path: "x.db", table: "logs; drop", retention: { max_rowz: 1 } },
    },
  }, { plugins: [sqliteSink] }).catch((e) => e);
  assert.ok(error instanceof ConfigError);
  assert.match(error.message, /sinks\.db\.table/);
  assert.match(error.message, /an SQL identifier/);
  assert.match(error.message, /did you mean "max_rows"/);
});

Deno.test("sqlite sink retention deletes records older than max_age and keeps the newest max_rows, counting them", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/r.db`;
  try {
    const now = Date.now();
    const port = freePort();
    const pipeline = await startPipeline({
      sources: { lines: { type: "tcp", address: `127.0.0.1:${port}` } },
      sinks: {
        db: { type: "sqlite", path, retention: { max_age: "1d", max_rows: 5, every: "20ms" } },
      },
    }, [tcpSource, sqliteSink]);
    try {
      let text = "";
      // 3 from two days ago, then 10 recent ones: age removes 3, rows keeps the newest 5.
      for (let i = 0; i < 13; i++) {
        const time = i < 3 ? now - 2 * 86_400_000 : now + i;
        text += JSON.stringify({ time, level: "info", message: `m${i}` }) + "\n";
      }
      await send(port, text);
      await waitFor(
        () => counter(pipeline, "records_expired_total", { component: "db" }) === 8,
        () => `${counter(pipeline, "records_expired_total", { component: "db" })} expired`,
      );
    } finally {
      await pipeline.shutdown();
    }
    assert.deepEqual(rows(path, "SELECT message FROM logs ORDER BY id").map((r) => r.message), [
      "m8",
      "m9",
      "m10",
      "m11",
      "m12",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite sink rolls a batch back while another writer holds the database and retries it whole", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/locked.db`;
  try {
    const port = freePort();
    const pipeline = await startPipeline({
      sources: { lines: { type: "tcp", address: `127.0.0.1:${port}` } },
      sinks: { db: { type: "sqlite", path } },
    }, [tcpSource, sqliteSink]);
    const other = new DatabaseSync(path);
    try {
      other.exec("BEGIN IMMEDIATE");
      await send(port, Array.from({ length: 50 }, (_, i) => `{"message":"m${i}"}\n`).join(""));
      await waitFor(
        () => counter(pipeline, "sink_retries_total", { component: "db" }) >= 1,
        () => "a retry",
      );
      assert.equal(counter(pipeline, "records_out_total", { component: "db" }), 0);
      other.exec("COMMIT");
      await waitFor(
        () => counter(pipeline, "records_out_total", { component: "db" }) === 50,
        () => `${counter(pipeline, "records_out_total", { component: "db" })} delivered`,
      );
    } finally {
      other.close();
      await pipeline.shutdown();
    }
    const stored = rows(path, "SELECT message FROM logs ORDER BY id").map((r) => r.message);
    assert.deepEqual(stored, Array.from({ length: 50 }, (_, i) => `m${i}`));
    assert.equal(counter(pipeline, "records_dropped_total"), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
