/**
 * Creating the JetStream stream when it is missing, and checking it when it exists.
 *
 * @module
 */

import type { JetStreamManager, JetStreamModule, StreamConfig } from "./nats_api.ts";
import type { NatsOptions } from "./nats_options.ts";

/** The JetStream API's error code for a missing stream. */
export const STREAM_NOT_FOUND = 10059;
/** Nanoseconds per millisecond (JetStream durations are nanoseconds). */
const NS = 1_000_000;

/**
 * A stream that exists with settings other than the config's: not retried, since waiting
 * does not change it.
 */
export class StreamMismatchError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "StreamMismatchError";
  }
}

/** Whether `subject` (no wildcards) matches the stream subject `pattern` (`*`, `>`). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const t = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return t.length > i;
    if (i >= t.length) return false;
    if (p[i] !== "*" && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}

/**
 * Makes sure the stream exists: creates it from the options when it is missing (when
 * `subjects` is known), and otherwise checks that its replicas, retention, limits and
 * duplicate window are those the options give, and that it stores `publishTo`. Returns
 * whether it created the stream, or `"missing"` when it neither exists nor can be created.
 * `nats` is the loaded client (`loadNats()`), for its error class.
 */
export async function ensureStream(
  nats: Pick<JetStreamModule, "JetStreamApiError">,
  jsm: JetStreamManager,
  options: NatsOptions,
  publishTo?: string,
): Promise<"created" | "exists" | "missing"> {
  const subjects = options.subjects ?? (publishTo !== undefined ? [publishTo] : undefined);
  let config: StreamConfig;
  try {
    config = (await jsm.streams.info(options.stream)).config;
  } catch (error) {
    if (!(error instanceof nats.JetStreamApiError) || error.code !== STREAM_NOT_FOUND) throw error;
    if (subjects === undefined) return "missing";
    const wanted: Partial<StreamConfig> & { name: string } = { name: options.stream, subjects };
    if (options.replicas !== undefined) wanted.num_replicas = options.replicas;
    if (options.retention !== undefined) wanted.retention = options.retention;
    if (options.max_age !== undefined) wanted.max_age = options.max_age * NS;
    if (options.max_bytes !== undefined) wanted.max_bytes = options.max_bytes;
    if (options.duplicate_window !== undefined) {
      wanted.duplicate_window = options.duplicate_window * NS;
    }
    try {
      await jsm.streams.add(wanted);
      return "created";
    } catch (addError) {
      // Another agent created it meanwhile: check it like any existing stream.
      if (!(addError instanceof nats.JetStreamApiError)) throw addError;
      config = (await jsm.streams.info(options.stream)).config;
    }
  }
  const problems: string[] = [];
  const check = (what: string, want: unknown, have: unknown) => {
    if (want !== undefined && want !== have) {
      problems.push(`${what} ${have} (the config asks ${want})`);
    }
  };
  check("replicas", options.replicas, config.num_replicas);
  check("retention", options.retention, config.retention);
  check(
    "max_age",
    options.max_age === undefined ? undefined : options.max_age * NS,
    config.max_age,
  );
  check("max_bytes", options.max_bytes, config.max_bytes);
  check(
    "duplicate_window",
    options.duplicate_window === undefined ? undefined : options.duplicate_window * NS,
    config.duplicate_window,
  );
  if (publishTo !== undefined && !config.subjects?.some((p) => subjectMatches(p, publishTo))) {
    problems.push(`subjects ${JSON.stringify(config.subjects ?? [])} (not "${publishTo}")`);
  }
  if (problems.length > 0) {
    throw new StreamMismatchError(
      `Stream "${options.stream}" exists with ${problems.join(", ")}; ` +
        "change the config or the stream (nats stream edit)",
    );
  }
  return "exists";
}
