/**
 * A processor in the running pipeline: runs the processor on each record and routes what it
 * returns to its targets, counting records in, out, filtered and failed.
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";
import { JsonFieldsRecord } from "../core/json_fields_record.ts";
import type { Processor } from "../plugin/types.ts";
import type { Series } from "./metrics.ts";
import type { Target } from "./target.ts";

/**
 * One processor between its inputs and its targets; a throwing processor drops the record.
 * A processor may return several records (an array): each is checked and routed in order.
 */
export class ProcessorNode implements Target {
  targets: Target[] = [];
  /** Whether the processor takes records with fields kept as JSON text (they are settled else). */
  readonly #text: boolean;
  constructor(
    readonly id: string,
    private readonly fn: Processor,
    private readonly counters: { in: Series; out: Series; filtered: Series; errors: Series },
    private readonly onError: (error: unknown) => void,
  ) {
    this.#text = JsonFieldsRecord.takesText(fn);
  }
  /**
   * Records may reach it with fields kept as JSON text when its processor takes them and every
   * target does too (see `SourceContext.fieldsAsText`).
   */
  get [JsonFieldsRecord.TAKES_TEXT](): boolean {
    const targets = this.targets;
    if (!this.#text || targets.length === 0) return false;
    for (const target of targets) if (!JsonFieldsRecord.takesText(target)) return false;
    return true;
  }
  push(record: LogRecord, local: boolean): void {
    this.counters.in.value++;
    let out: LogRecord | readonly LogRecord[] | null;
    try {
      // Fields still kept as JSON text are parsed once here, not through a Proxy per access.
      out = this.fn(this.#text ? record : JsonFieldsRecord.settle(record));
    } catch (error) {
      // A processor that throws may be the one removing secrets: drop, never pass unprocessed.
      this.counters.errors.value++;
      this.onError(error);
      return;
    }
    if (out === null || out === undefined) {
      this.counters.filtered.value++;
      return;
    }
    if (Array.isArray(out)) {
      const records = out as readonly LogRecord[];
      // An empty array passes nothing on: the record was taken, as with null.
      if (records.length === 0) this.counters.filtered.value++;
      for (let i = 0; i < records.length; i++) this.#pass(records[i]!, local);
      return;
    }
    this.#pass(out as LogRecord, local);
  }

  #pass(out: LogRecord, local: boolean): void {
    if (typeof out?.message !== "string") {
      // Not a record: sinks would throw on it, up into the caller's log call.
      this.counters.errors.value++;
      this.onError(
        new TypeError(
          `Processor "${this.id}" returned a value that is not a record (no string message)`,
        ),
      );
      return;
    }
    this.counters.out.value++;
    const targets = this.targets;
    for (let i = 0; i < targets.length; i++) targets[i]!.push(out, local);
  }
}
