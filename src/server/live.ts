/**
 * `GET /live`: a server-sent event stream of a running pipeline, for `sluice tap`,
 * `sluice top` and the dashboard.
 *
 * @module
 */

// Full npm: specifiers, not import map names: a user's script imports this package from
// anywhere, by path or URL, where no import map names them (tests/package/).
// deno-lint-ignore-file no-import-prefix
import type { Context } from "npm:hono@^4.13.19";
import { levelName, parseLevel } from "../core/levels.ts";
import { safeStringify } from "../core/safe_stringify.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import { type TapFilter, TapFilterError, type TappedRecord } from "../pipeline/tap.ts";
import { closest } from "../schema/closest.ts";
import { parseDuration } from "../schema/units.ts";
import { type ComponentStats, componentStats } from "./component_stats.ts";

/** What the live stream reads of a pipeline. */
export type LivePipeline = Pick<
  Pipeline,
  "config" | "metrics" | "sinks" | "health" | "tap" | "stats"
>;

/** The events a client may ask for with `events=`. */
export const LIVE_EVENTS = ["records", "components", "analysis"] as const;

/** One of {@linkcode LIVE_EVENTS}. */
export type LiveEvent = typeof LIVE_EVENTS[number];

/** Records are sent this often: 10 times a second reads as live and keeps chunks large. */
const RECORD_FLUSH_MS = 100;
/** A comment this often finds a client gone while nothing else is sent. */
const HEARTBEAT_MS = 5_000;
/**
 * Bytes of events queued for a client before it counts as slow: the response stream stops
 * taking more, and the subscriber's record buffer (`limit`) fills and drops instead.
 */
const STREAM_HIGH_WATER_BYTES = 256 * 1024;
const DEFAULT_LIMIT = 1_000;
const MAX_LIMIT = 100_000;
const ENCODER = new TextEncoder();

/** A `/live` request's options, parsed from its query. */
export interface LiveQuery {
  /** What to send. */
  events: ReadonlySet<LiveEvent>;
  /** Which records (with `records`). */
  filter: TapFilter;
  /** How often components and analysis are sent, in ms. */
  interval: number;
  /** Records buffered for this client at most; beyond, the newest are dropped and counted. */
  limit: number;
}

/** Thrown for a query `/live` cannot serve; its message says which parameter and why. */
export class LiveQueryError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "LiveQueryError";
  }
}

/**
 * Parses `/live`'s query: `events` (comma-separated {@linkcode LIVE_EVENTS}, default
 * `components`), `component` (ids, comma-separated or repeated, `*` wildcards), `level` (the
 * lowest), `logger` (with its children), `field` (repeated `key=value`), `interval` (100ms to
 * 60s, default 1s) and `limit` (1 to 100000 records, default 1000).
 *
 * @example Parse a tap's query
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLiveQuery } from "./live.ts";
 * const query = parseLiveQuery(new URLSearchParams("events=records&level=warn&field=service=api"));
 * assert.deepEqual([...query.events], ["records"]);
 * assert.equal(query.filter.level, 30);
 * assert.deepEqual(query.filter.fields, [["service", "api"]]);
 * assert.throws(() => parseLiveQuery(new URLSearchParams("events=recrods")), /did you mean/);
 * ```
 */
export function parseLiveQuery(params: URLSearchParams): LiveQuery {
  const list = (name: string) =>
    params.getAll(name).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  const events = new Set<LiveEvent>();
  for (const name of list("events")) {
    if (!(LIVE_EVENTS as readonly string[]).includes(name)) {
      const near = closest(name, LIVE_EVENTS);
      throw new LiveQueryError(
        `Unknown event "${name}" in events=${near ? `; did you mean "${near}"?` : ""} (events: ${
          LIVE_EVENTS.join(", ")
        })`,
      );
    }
    events.add(name as LiveEvent);
  }
  if (events.size === 0) events.add("components");
  const filter: TapFilter = {};
  const components = list("component");
  if (components.length > 0) filter.components = components;
  const levelText = params.get("level");
  if (levelText !== null) {
    const level = parseLevel(levelText);
    if (level === undefined) {
      throw new LiveQueryError(
        `Invalid level "${levelText}"; expected trace, debug, info, warn, error, critical or 0-100`,
      );
    }
    filter.level = level;
  }
  const logger = params.get("logger");
  if (logger !== null) filter.logger = logger;
  const fields = params.getAll("field").map((pair) => {
    const at = pair.indexOf("=");
    if (at <= 0) throw new LiveQueryError(`Invalid field "${pair}"; expected key=value`);
    return [pair.slice(0, at), pair.slice(at + 1)] as const;
  });
  if (fields.length > 0) filter.fields = fields;
  const intervalText = params.get("interval") ?? "1s";
  const interval = parseDuration(intervalText);
  if (interval === undefined || interval < 100 || interval > 60_000) {
    throw new LiveQueryError(
      `Invalid interval "${intervalText}"; expected a duration from 100ms to 60s`,
    );
  }
  const limitText = params.get("limit") ?? String(DEFAULT_LIMIT);
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new LiveQueryError(
      `Invalid limit "${limitText}"; expected a whole number 1-${MAX_LIMIT}`,
    );
  }
  return { events, filter, interval, limit };
}

/** A tapped record as one JSON object: where it was seen, then the record's own keys. */
export function tappedRecordJson(tapped: TappedRecord): string {
  const r = tapped.record;
  const out: Record<string, unknown> = {
    component: tapped.component,
    kind: tapped.kind,
    time: new Date(r.time).toISOString(),
    level: levelName(r.level),
    logger: r.logger,
    message: r.message,
    fields: r.fields,
  };
  if (r.trace_id !== undefined) out.trace_id = r.trace_id;
  if (r.span_id !== undefined) out.span_id = r.span_id;
  if (r.parent_span_id !== undefined) out.parent_span_id = r.parent_span_id;
  if (r.error !== undefined) out.error = r.error;
  if (r.caller !== undefined) out.caller = r.caller;
  return safeStringify(out);
}

const event = (name: string, data: string) => `event: ${name}\ndata: ${data}\n\n`;

/**
 * Answers `/live`: `text/event-stream` with a `hello` event (the tappable components and the
 * settings), then what `events` asked for: `record` events (one JSON record each, see
 * {@linkcode tappedRecordJson}) ten times a second, `lost` events (`{"records": n}`, what
 * this client's buffer dropped since the last one), `components` events (every component's
 * counters, rates, queue and problem, see {@linkcode componentStats}) and `analysis` events
 * (what `/stats` answers) every `interval`. A client that reads too slowly is dropped from,
 * never waited for. 400 for a bad query, 503 beyond the tap's subscriber limit; the stream
 * ends when the pipeline shuts down.
 */
export function liveResponse(
  c: Context,
  pipeline: LivePipeline,
  now: () => number = Date.now,
): Response {
  let query: LiveQuery;
  try {
    query = parseLiveQuery(new URL(c.req.url).searchParams);
  } catch (error) {
    if (error instanceof LiveQueryError) return c.json({ error: error.message }, 400);
    throw error;
  }
  const wantsRecords = query.events.has("records");
  let subscription;
  try {
    subscription = pipeline.tap.subscribe(wantsRecords ? query.filter : null, query.limit);
  } catch (error) {
    if (error instanceof TapFilterError) return c.json({ error: error.message }, 400);
    c.header("Retry-After", "5");
    return c.json({ error: (error as Error).message }, 503);
  }
  const timers: ReturnType<typeof setInterval>[] = [];
  let last: { at: number; components: ComponentStats[] } | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        if (subscription.closed || text === "") return;
        try {
          controller.enqueue(ENCODER.encode(text));
        } catch {
          subscription.close();
        }
      };
      // Room in the stream: a client that does not read leaves none, and is skipped.
      const room = () => (controller.desiredSize ?? 0) > 0;
      const snapshot = () => {
        if (!room()) return;
        const at = now();
        let text = "";
        if (query.events.has("components")) {
          const components = componentStats(
            pipeline,
            last && { at: last.at, now: at, components: last.components },
          );
          last = { at, components };
          text += event("components", safeStringify({ time: at, components }));
        }
        if (query.events.has("analysis")) {
          text += event("analysis", safeStringify(Object.fromEntries(pipeline.stats())));
        }
        send(text);
      };
      const flush = () => {
        if (!room()) return;
        const { records, lost } = subscription.take();
        let text = lost > 0 ? event("lost", `{"records":${lost}}`) : "";
        for (const tapped of records) text += event("record", tappedRecordJson(tapped));
        if (text !== "") send(text);
      };
      subscription.onClose(() => {
        for (const timer of timers) clearInterval(timer);
        try {
          controller.close();
        } catch {
          // Already closed or errored by a cancel.
        }
      });
      send(
        "retry: 2000\n" + event(
          "hello",
          safeStringify({
            components: pipeline.tap.components,
            events: [...query.events],
            interval_ms: query.interval,
            limit: query.limit,
          }),
        ),
      );
      snapshot();
      if (query.events.has("components") || query.events.has("analysis")) {
        timers.push(setInterval(snapshot, query.interval));
      }
      if (wantsRecords) timers.push(setInterval(flush, RECORD_FLUSH_MS));
      timers.push(setInterval(() => send(": ping\n\n"), HEARTBEAT_MS));
    },
    cancel() {
      subscription.close();
    },
  }, new ByteLengthQueuingStrategy({ highWaterMark: STREAM_HIGH_WATER_BYTES }));
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "x-accel-buffering": "no",
    },
  });
}
