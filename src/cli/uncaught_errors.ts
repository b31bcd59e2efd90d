/**
 * The CLI's safety net for errors nothing caught.
 *
 * @module
 */

import { describeError } from "../core/describe_error.ts";
import { handledErrors } from "../core/handled_errors.ts";
import { ownLine } from "../pipeline/internal_log.ts";

/** Where an uncaught error came from: a callback that threw, or a rejection nobody handled. */
export type UncaughtKind = "callback" | "rejection";

/** Distinct errors said at most; beyond them errors are still counted. */
const MAX_SAID = 100;

/**
 * Errors nothing caught: thrown from a callback (a timer, an event listener, a socket's
 * handler) or a promise rejected with no handler. Each is a bug, most likely in a plugin.
 * The agent must not die of one (a log agent that exits loses what it holds), nor hide it:
 * each is counted (`onError`: `sluice run` counts `sluice_uncaught_errors_total{kind}`),
 * each distinct one is said on stderr once with its stack, and `count` makes the process's
 * exit code {@linkcode UncaughtErrors.EXIT_CODE} where it would have been 0. An error that
 * another listener marked in `handledErrors` (`src/core/handled_errors.ts`) is passed over.
 *
 * @example Count and say a rejection once
 * ```ts
 * import assert from "node:assert/strict";
 * import { UncaughtErrors } from "./uncaught_errors.ts";
 * const lines: string[] = [];
 * const errors = new UncaughtErrors((line) => lines.push(line));
 * const kinds: string[] = [];
 * errors.onError = (kind) => kinds.push(kind);
 * errors.report("rejection", new Error("nobody awaited this"));
 * errors.report("rejection", new Error("nobody awaited this"));
 * assert.equal(errors.count, 2);
 * assert.deepEqual(kinds, ["rejection", "rejection"]);
 * assert.equal(lines.length, 1);
 * assert.match(lines[0]!, /nobody awaited this\n\s+at /);
 * ```
 */
export class UncaughtErrors {
  /** The exit code of a command that would have exited 0 after an uncaught error. */
  static readonly EXIT_CODE = 5;
  /** The process's: installed by `src/cli/main.ts`, counted into /metrics by `sluice run`. */
  static readonly process: UncaughtErrors = new UncaughtErrors();

  /** Called for each error (after it is said); `sluice run` counts it in its metrics. */
  onError: ((kind: UncaughtKind) => void) | undefined;
  /** Applied to what is said: `sluice run` names the variables whose values it would show. */
  conceal: (text: string) => string = (text) => text;
  readonly #write: (line: string) => void;
  readonly #said = new Set<string>();
  #count = 0;

  /** `write` takes each line said (stderr by default). */
  constructor(write: (line: string) => void = (line) => console.error(line)) {
    this.#write = write;
  }

  /** Errors reported so far. */
  get count(): number {
    return this.#count;
  }

  /**
   * Listens for `error` and `unhandledrejection` on `target` (the global scope): each is
   * kept from ending the process and, unless another listener handled it, reported.
   */
  install(target: EventTarget = globalThis): void {
    const take = (kind: UncaughtKind, error: unknown) => {
      // After the dispatch: a listener added later (the NATS guard) has had its turn.
      queueMicrotask(() => {
        if (typeof error === "object" && error !== null && handledErrors.has(error)) return;
        this.report(kind, error);
      });
    };
    target.addEventListener("error", (event) => {
      event.preventDefault();
      const { error, message } = event as ErrorEvent;
      take("callback", error ?? message);
    });
    target.addEventListener("unhandledrejection", (event) => {
      event.preventDefault();
      take("rejection", (event as PromiseRejectionEvent).reason);
    });
  }

  /** Counts `error`, says it with its stack unless an error of its message was said. */
  report(kind: UncaughtKind, error: unknown): void {
    this.#count++;
    const message = describeError(error);
    if (!this.#said.has(message) && this.#said.size < MAX_SAID) {
      this.#said.add(message);
      // The stack's first line repeats the message; the frames say where it came from.
      const stack = error instanceof Error && error.stack
        ? error.stack.split("\n").filter((line) => /^\s+at /.test(line)).join("\n")
        : "";
      const what = kind === "callback" ? "thrown from a callback" : "a rejection nobody handled";
      this.#write(ownLine(
        "ERROR",
        this.conceal(
          `Uncaught error (${what}; a bug, the run goes on and exits ${UncaughtErrors.EXIT_CODE}): ` +
            message + (stack ? `\n${stack}` : ""),
        ),
      ));
    }
    this.onError?.(kind);
  }

  /**
   * The exit code for `code`: {@linkcode UncaughtErrors.EXIT_CODE} instead of 0 when an error
   * was reported, said with the count; any other code is kept.
   */
  exitCode(code: number): number {
    if (code !== 0 || this.#count === 0) return code;
    const n = this.#count;
    this.#write(ownLine(
      "ERROR",
      `Exiting with code ${UncaughtErrors.EXIT_CODE}: ${n} error${n === 1 ? "" : "s"} nothing ` +
        "caught (the stacks above; sluice_uncaught_errors_total)",
    ));
    return UncaughtErrors.EXIT_CODE;
  }
}
