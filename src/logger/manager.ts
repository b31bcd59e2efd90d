/**
 * The logger hierarchy: per-name state with cached gates, and the logger sources of the
 * running pipeline attached at points of the hierarchy (Python's handlers).
 *
 * @module
 */

import type { LogRecord } from "../core/record.ts";
import { Level } from "../core/levels.ts";

/** A logger source attached at a point of the hierarchy. */
export interface Attachment {
  /** The logger name it is attached to (`""` is the root). */
  readonly name: string;
  /** Routes one record into the pipeline without waiting. */
  push(record: LogRecord): void;
  /** The lowest level any sink behind it accepts. */
  readonly minLevel: number;
}

/** The shared state of one logger name; every `Logger` of that name (and its children) points at it. */
export class LoggerState {
  /** Explicit level, `NOTSET` (0) to inherit. */
  level = 0;
  /** Whether records also reach attachments of ancestors. */
  propagate = true;
  /** Explicit call-site setting; `undefined` inherits. */
  caller: boolean | undefined = undefined;
  /** The effective call-site setting (cached like the gate). */
  withCaller = false;
  /** The cached minimum level a call must reach to build a record. */
  gate = Infinity;
  /** The attachments a record of this logger reaches. */
  targets: Attachment[] = [];
  /** Told each new gate, so the `Logger` class can keep this name's methods in step. */
  onGate: ((gate: number) => void) | undefined = undefined;
  constructor(readonly name: string, readonly parent: LoggerState | undefined) {}
}

/** The root's level when nothing sets it (Python's last resort prints WARNING; we keep INFO). */
export const DEFAULT_ROOT_LEVEL: number = Level.INFO;

class Manager {
  readonly states = new Map<string, LoggerState>();
  readonly root = new LoggerState("", undefined);
  attachments: Attachment[] = [];
  /** Called before the first logger is handed out, so a default pipeline can attach. */
  onFirstUse: (() => void) | undefined;

  constructor() {
    this.root.level = DEFAULT_ROOT_LEVEL;
    this.states.set("", this.root);
  }

  state(name: string): LoggerState {
    // Before the lookup: the root exists from the start, and may be the first logger asked for.
    if (this.onFirstUse) {
      const hook = this.onFirstUse;
      this.onFirstUse = undefined;
      hook();
    }
    const existing = this.states.get(name);
    if (existing) return existing;
    const dot = name.lastIndexOf(".");
    const parent = this.state(dot === -1 ? "" : name.slice(0, dot));
    const state = new LoggerState(name, parent);
    this.states.set(name, state);
    this.#refreshOne(state);
    return state;
  }

  /** Replaces the attachments and the per-logger settings in one step. */
  install(
    attachments: Attachment[],
    loggers: Record<string, { level: number; propagate: boolean; caller?: boolean }> | undefined,
  ): void {
    this.onFirstUse = undefined;
    if (loggers) {
      for (const state of this.states.values()) {
        state.level = state === this.root ? DEFAULT_ROOT_LEVEL : 0;
        state.propagate = true;
        state.caller = undefined;
      }
      for (const [name, settings] of Object.entries(loggers)) {
        const state = this.state(name);
        state.level = settings.level;
        state.propagate = settings.propagate;
        state.caller = settings.caller;
      }
    }
    this.attachments = attachments;
    this.refresh();
  }

  refresh(): void {
    for (const state of this.states.values()) this.#refreshOne(state);
  }

  #refreshOne(state: LoggerState): void {
    let effective = 0;
    for (let s: LoggerState | undefined = state; s; s = s.parent) {
      if (s.level !== 0) {
        effective = s.level;
        break;
      }
    }
    let caller = false;
    for (let s: LoggerState | undefined = state; s; s = s.parent) {
      if (s.caller !== undefined) {
        caller = s.caller;
        break;
      }
    }
    state.withCaller = caller;
    const targets: Attachment[] = [];
    for (let s: LoggerState | undefined = state; s; s = s.parent) {
      for (const a of this.attachments) if (a.name === s.name) targets.push(a);
      if (!s.propagate) break;
    }
    let minSink = Infinity;
    for (const t of targets) if (t.minLevel < minSink) minSink = t.minLevel;
    state.targets = targets;
    const gate = targets.length === 0 ? Infinity : Math.max(effective, minSink, 1);
    if (gate !== state.gate) {
      state.gate = gate;
      state.onGate?.(gate);
    }
  }
}

/** The process-wide hierarchy. */
export const manager: Manager = new Manager();
