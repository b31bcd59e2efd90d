/**
 * The error every config problem is reported with.
 *
 * @module
 */

/** One config problem, positioned in its file. */
export interface ConfigProblem {
  /** The config file, or `<object>` for a config given as an object. */
  file: string;
  /** 1-based line, when the position is known. */
  line?: number;
  /** 1-based column, when the position is known. */
  col?: number;
  /** The key path, dotted: `sinks.file.max_bytes`. */
  path: string;
  /** What is wrong and what was expected. */
  message: string;
  /** A did-you-mean, when there is one. */
  hint?: string;
}

/** Renders a problem as `file:line:col: path: message (hint)`. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.line !== undefined ? `${p.file}:${p.line}:${p.col ?? 1}` : p.file;
  const path = p.path ? `${p.path}: ` : "";
  return `${where}: ${path}${p.message}${p.hint ? ` (${p.hint})` : ""}`;
}

/**
 * A config could not be used. `problems` lists every issue found; the message shows
 * them one per line.
 *
 * @example Render every problem
 * ```ts
 * import { ConfigError } from "./config_error.ts";
 * import assert from "node:assert/strict";
 * const error = new ConfigError([
 *   { file: "sluice.yaml", line: 3, col: 5, path: "sinks.out.typ", message: 'Unknown key "typ"', hint: 'did you mean "type"?' },
 * ]);
 * assert.ok(error.message.includes('sluice.yaml:3:5: sinks.out.typ: Unknown key "typ"'));
 * ```
 */
export class ConfigError extends Error {
  /** Every problem found, in file order. */
  readonly problems: readonly ConfigProblem[];

  /** Creates the error from its problems. */
  constructor(problems: readonly ConfigProblem[], options?: ErrorOptions) {
    super(problems.map(formatProblem).join("\n"), options);
    this.name = "ConfigError";
    this.problems = problems;
  }
}
