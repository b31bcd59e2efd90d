/**
 * The source of the worker-ingest prototype (issue #18), for `bench/pipeline.ts --only
 * proto_w1,proto_w2`: a TCP listener whose connections' bytes are cut at the last newline of
 * each read and handed, transferred, to a pool of `workers` Workers (worker.ts) that decode,
 * parse, format (and with `redact: true` redact) them; the main thread takes the replies in
 * order per connection, builds one {@linkcode IngestedRecord} per line and emits them through
 * the real pipeline (queues, sink node, file sink), with `format.ts` writing each record's
 * precomputed line. Back-pressure: at most two chunks per Worker in flight per connection,
 * and no read while `emit` waits. Rejects are counted through `context.reject`.
 *
 * Not a product: no TLS, no framing options, no rate limit, no idle timeout.
 *
 * @module
 */

import { definePlugin, s } from "../../../mod.ts";
import { IngestedRecord } from "./ingested_record.ts";

interface Reply {
  id: number;
  count: number;
  text: string;
  ends: Int32Array;
  times: Float64Array;
  levels: Int32Array;
  strs: string;
  strEnds: Int32Array;
  rejects: Record<string, number>;
  /** The lines as UTF-8, in the `write_to` mode. */
  out?: ArrayBuffer;
}

class Pool {
  readonly workers: Worker[] = [];
  readonly #waiting = new Map<number, (reply: Reply) => void>();
  #next = 0;
  #id = 0;

  constructor(size: number, redact: boolean, bytes: boolean) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
      worker.onmessage = (event) => {
        const reply = event.data as Reply;
        const wake = this.#waiting.get(reply.id);
        if (wake) {
          this.#waiting.delete(reply.id);
          wake(reply);
        }
      };
      this.workers.push(worker);
    }
    this.ready = Promise.all(this.workers.map((worker) =>
      new Promise<void>((resolve) => {
        const id = -1 - this.workers.indexOf(worker);
        this.#waiting.set(id, () => resolve());
        worker.postMessage({ setup: true, redact, bytes, id });
      })
    )).then(() => {});
  }

  readonly ready: Promise<void>;

  run(bytes: Uint8Array, now: number): Promise<Reply> {
    const id = this.#id++;
    const worker = this.workers[this.#next]!;
    this.#next = (this.#next + 1) % this.workers.length;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      worker.postMessage(
        { id, bytes: bytes.buffer, offset: bytes.byteOffset, length: bytes.length, now },
        [bytes.buffer as ArrayBuffer],
      );
    });
  }
}

/** The `proto_worker_tcp` source. */
export default definePlugin({
  kind: "source",
  type: "proto_worker_tcp",
  description: "Prototype: TCP NDJSON parsed and formatted in Workers.",
  options: s.object({
    address: s.string().describe("host:port"),
    workers: s.integer({ min: 1, max: 8 }).default(1).describe("Workers."),
    redact: s.boolean().default(false).describe("Redact in the Workers."),
    write_to: s.string().optional().describe(
      "Upper-bound mode: the main thread appends the Workers' bytes to this file itself, " +
        "bypassing the pipeline (no records, no queues, no counters but rejects).",
    ),
  }),
  create(options, context) {
    const [hostname, port] = options.address.split(":") as [string, string];
    const pool = new Pool(options.workers, options.redact, options.write_to !== undefined);
    const direct = options.write_to === undefined
      ? undefined
      : Deno.openSync(options.write_to, { write: true, create: true, append: true });
    const inFlight = 2 * options.workers;
    let listener: Deno.Listener | undefined;
    const loops = new Set<Promise<void>>();
    const serve = async (conn: Deno.Conn) => {
      const replies: Promise<Reply>[] = [];
      let carry: Uint8Array | undefined;
      let eof = false;
      const drain = async (all: boolean) => {
        while (replies.length > (all ? 0 : inFlight - 1)) {
          const reply = await replies.shift()!;
          for (const reason in reply.rejects) context.reject(reason, reply.rejects[reason]);
          if (direct !== undefined) {
            const bytes = new Uint8Array(reply.out!);
            for (let at = 0; at < bytes.length;) at += direct.writeSync(bytes.subarray(at));
            continue;
          }
          const { count, text, ends, times, levels, strs, strEnds } = reply;
          const records = new Array<IngestedRecord>(count);
          let start = 0;
          let s0 = 0;
          let logger = "";
          for (let i = 0; i < count; i++) {
            const end = ends[i]!;
            const l = strEnds[2 * i]!;
            const m = strEnds[2 * i + 1]!;
            // Consecutive records mostly share their logger: one string, not one slice each.
            if (l - s0 !== logger.length || !strs.startsWith(logger, s0)) {
              logger = strs.slice(s0, l);
            }
            records[i] = new IngestedRecord(
              times[i]!,
              levels[i]!,
              logger,
              strs.slice(l, m),
              text.slice(start, end - 1),
            );
            start = end;
            s0 = m;
          }
          if (count > 0) await context.emit(records);
        }
      };
      try {
        while (!eof) {
          const buffer = new Uint8Array(65_536);
          const n = await conn.read(buffer).catch(() => null);
          if (n === null) {
            eof = true;
            if (carry && carry.length > 0) replies.push(pool.run(carry, Date.now()));
            break;
          }
          const last = buffer.subarray(0, n).lastIndexOf(10);
          if (last === -1) {
            carry = carry ? concat(carry, buffer.subarray(0, n)) : buffer.slice(0, n);
            continue;
          }
          const rest = buffer.slice(last + 1, n);
          const piece = carry
            ? concat(carry, buffer.subarray(0, last + 1))
            : buffer.subarray(0, last + 1);
          carry = rest.length > 0 ? rest : undefined;
          replies.push(pool.run(piece, Date.now()));
          await drain(false);
        }
        await drain(true);
      } finally {
        try {
          conn.close();
        } catch {
          // Closed.
        }
      }
    };
    const accept = async () => {
      for await (const conn of listener!) {
        const loop = serve(conn).finally(() => loops.delete(loop));
        loops.add(loop);
      }
    };
    let accepting: Promise<void> | undefined;
    return {
      async start() {
        await pool.ready;
        listener = Deno.listen({ hostname, port: Number(port) });
        accepting = accept().catch(() => {});
      },
      async [Symbol.asyncDispose]() {
        listener?.close();
        await accepting;
        await Promise.allSettled([...loops]);
        for (const worker of pool.workers) worker.terminate();
        direct?.close();
      },
    };
  },
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
