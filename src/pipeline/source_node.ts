/**
 * A source in the running pipeline: the context a source plugin emits through, which routes
 * its records to processors and sinks and applies back-pressure from the sinks it reaches.
 *
 * @module
 */

import { JsonFieldsRecord } from "../core/json_fields_record.ts";
import type { LogRecord } from "../core/record.ts";
import type { Counter, Formatter, PluginContext, Source, SourceContext } from "../plugin/types.ts";
import type { FormatterSpec } from "../schema/schema.ts";
import type { Metrics, Series } from "./metrics.ts";
import type { SinkNode } from "./sink_node.ts";
import type { Target } from "./target.ts";
import { beforeDeadline } from "../core/before_deadline.ts";

const RESOLVED = Promise.resolve();

/** A live source with its context. */
export interface SourceEntry {
  id: string;
  source: Source;
  context: LiveSourceContext;
}

/** Ends a promise chain's dependence on how the previous step settled. */
const settled = (): void => {};

/** The live context of one source: what its `push()` and `emit()` reach. */
export class LiveSourceContext implements SourceContext {
  targets: Target[] = [];
  sinks: SinkNode[] = [];
  readonly #in: Series;
  /** The last `emit()` waiting in line for room, if any. */
  #line: Promise<void> | undefined;
  constructor(
    readonly base: PluginContext,
    private readonly metrics: Metrics,
    readonly owner: object,
  ) {
    this.#in = metrics.counter("records_in_total", "Records accepted by a component.", {
      component: base.id,
      kind: "source",
    });
  }
  get id(): string {
    return this.base.id;
  }
  get baseDir(): string {
    return this.base.baseDir;
  }
  get dataDir(): string {
    return this.base.dataDir;
  }
  get log(): PluginContext["log"] {
    return this.base.log;
  }
  get signal(): AbortSignal {
    return this.base.signal;
  }
  createFormatter(spec: FormatterSpec): Formatter {
    return this.base.createFormatter(spec);
  }
  counter(name: string, help: string, labels?: Record<string, string>): Counter {
    return this.base.counter(name, help, labels);
  }
  /** The lowest level any reachable sink accepts (Infinity when none). */
  get minLevel(): number {
    let min = Infinity;
    for (const sink of this.sinks) if (sink.level < min) min = sink.level;
    return min;
  }
  /**
   * Whether every target is a sink that writes fields kept as JSON text as they stand (see
   * `JsonFieldsRecord`): only then does reading lines with a `JsonBlockReader` pay.
   */
  get fieldsAsText(): boolean {
    const targets = this.targets;
    if (targets.length === 0) return false;
    for (const target of targets) if (!JsonFieldsRecord.takesText(target)) return false;
    return true;
  }
  /** Routes one in-process record; never waits (sinks apply `when_full`). */
  push(record: LogRecord): void {
    this.#in.value++;
    const targets = this.targets;
    for (let i = 0; i < targets.length; i++) targets[i]!.push(record, true);
  }
  /**
   * Routes a source's records and resolves once every sink it reaches is below its bound.
   * While one call waits for room, later calls wait in line behind it and each pushes only
   * when there is room again: twenty connections of one source waiting on a full sink add one
   * batch beyond its bound, not twenty.
   */
  emit(records: readonly LogRecord[]): Promise<void> {
    return this.#emit(records, undefined);
  }
  /**
   * Emits and resolves `true` once every sink the records reached holds them safely (see
   * `SinkNode.whenSafe`), `false` if one lost any or `timeoutMs` passed first.
   */
  async emitAcknowledged(records: readonly LogRecord[], timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const sinks = this.sinks;
    const marks: { position: number; losses: number }[] = [];
    let pushed!: () => void;
    const wasPushed = new Promise<boolean>((resolve) => pushed = () => resolve(true));
    // The records' own safety is what counts, not the room after them: the emit's wait for
    // room stays the back-pressure of whatever this source sends next (it waits in line).
    this.#emit(records, (phase) => {
      // Read just before and just after the records are pushed, wherever they waited in line.
      for (let i = 0; i < sinks.length; i++) {
        const sink = sinks[i]!;
        if (phase === "before") marks[i] = { position: sink.position, losses: sink.losses };
        else marks[i]!.position = sink.position === marks[i]!.position ? -1 : sink.position;
      }
      if (phase === "after") pushed();
    }).catch(settled);
    if (!await beforeDeadline(wasPushed, deadline, false)) return false;
    const waits = sinks.map((sink, i) => {
      const mark = marks[i]!;
      // A sink the records did not reach (below its level, filtered) has nothing to hold,
      // unless it lost some of them.
      if (mark.position === -1) return Promise.resolve(sink.losses === mark.losses);
      return sink.whenSafe(mark.position, mark.losses, deadline);
    });
    return (await Promise.all(waits)).every(Boolean);
  }
  #emit(
    records: readonly LogRecord[],
    around: ((phase: "before" | "after") => void) | undefined,
  ): Promise<void> {
    if (this.#line === undefined && !this.#full()) {
      around?.("before");
      this.#push(records);
      around?.("after");
      return this.#full() ? this.#wait(this.#room()!) : RESOLVED;
    }
    // Behind the previous call however it ended: one failed call must not fail the line.
    return this.#wait(
      (this.#line ?? RESOLVED).then(settled, settled).then(() => this.#room()).then(() => {
        around?.("before");
        this.#push(records);
        around?.("after");
        return this.#room();
      }),
    );
  }

  /** Makes `turn` the last in line until it settles (its caller handles a rejection). */
  #wait(turn: Promise<void>): Promise<void> {
    this.#line = turn;
    const leave = () => {
      if (this.#line === turn) this.#line = undefined;
    };
    turn.then(leave, leave);
    return turn;
  }
  /** Whether a sink this source reaches is at its bound. */
  #full(): boolean {
    for (const sink of this.sinks) if (sink.saturated) return true;
    return false;
  }
  /** Resolves when every full sink has room (`undefined` when none is full). */
  #room(): Promise<void> | undefined {
    let waits: Promise<void>[] | undefined;
    for (const sink of this.sinks) {
      if (sink.saturated) (waits ??= []).push(sink.waitForSpace());
    }
    return waits && Promise.all(waits).then(() => undefined);
  }
  #push(records: readonly LogRecord[]): void {
    const targets = this.targets;
    let invalid = 0;
    for (const record of records) {
      // A plugin's bug must not throw out of emit() or into a sink: count it like bad input.
      if (typeof record?.message !== "string" || typeof record.level !== "number") {
        invalid++;
        continue;
      }
      for (let i = 0; i < targets.length; i++) targets[i]!.push(record, false);
    }
    this.#in.value += records.length - invalid;
    if (invalid > 0) {
      this.reject("invalid_record", invalid);
      this.base.log.warnOnce(
        `source:${this.id}:invalid_record`,
        `Source "${this.id}" emitted ${invalid} value(s) that are not records (a plugin bug); they are counted as rejected`,
      );
    }
  }
  reject(reason: string, count = 1): void {
    this.metrics.counter("records_rejected_total", "Inputs a source rejected, by reason.", {
      component: this.id,
      reason,
    }).inc(count);
  }
}
