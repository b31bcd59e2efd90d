/**
 * Field paths with wildcards (`password`, `*.token`, `card.number`, `users.*.email`,
 * `**.secret`), compiled once into a matcher that walks nested objects and arrays.
 *
 * @module
 */

type Segment =
  | { kind: "exact"; name: string }
  | { kind: "any" }
  | { kind: "deep" }
  | { kind: "glob"; re: RegExp };

/** A position in one path: path index and segment index, packed into a number. */
type State = number;

const SHIFT = 1024;

/**
 * Checks a field path's syntax; returns why it is invalid, or `undefined`.
 *
 * @example
 * ```ts
 * import { fieldPathProblem } from "./field_paths.ts";
 * import assert from "node:assert/strict";
 * assert.ok(fieldPathProblem("card.number") === undefined && fieldPathProblem("a..b") !== undefined);
 * ```
 */
export function fieldPathProblem(path: string): string | undefined {
  if (path.trim() === "") return "the path is empty";
  const segments = path.split(".");
  if (segments.some((segment) => segment === "")) return "a path segment is empty";
  if (segments.length >= SHIFT) return "the path is too long";
  if (segments.every((segment) => segment === "**")) return "the path matches every field";
  return undefined;
}

/** Where a walk stands: the set of positions in the paths. Interned: equal sets are one object. */
export interface StateSet {
  /** No path can match below this point. */
  readonly empty: boolean;
}

/** The outcome of moving past one key or index. */
export interface Step {
  /** Whether a path ends here: the value at this key is to be redacted. */
  readonly matched: boolean;
  /** The first path that ends here (an index into `paths`), or -1. */
  readonly path: number;
  /** Where the walk stands for the value's children. */
  readonly next: StateSet;
}

class States implements StateSet {
  readonly empty: boolean;
  /** Steps already computed from this set, by key (bounded). */
  readonly keys = new Map<string, Step>();
  /** Steps into array elements, by index (bounded). */
  readonly indices = new Map<number, Step>();
  constructor(readonly list: readonly State[]) {
    this.empty = list.length === 0;
  }
}

/** Most cached steps per state set: keys with unbounded variety are computed, not kept. */
const CACHE_LIMIT = 4096;

/**
 * Matches keys against field paths while a walker descends into a value.
 *
 * Syntax: segments are separated by dots and compared without regard to case. `*`
 * matches any one key or array index, `**` any number of levels (including none), and a
 * `*` inside a segment is a wildcard (`*_token`). A path of one segment (`password`)
 * matches that key at any depth; a longer path starts at the record's fields. Arrays are
 * crossed transparently too, so `users.password` reaches every user's password.
 * Steps are memoized per state set and key, so a walk over records of one shape costs a
 * map lookup per key.
 *
 * @example Walk one level
 * ```ts
 * import { FieldMatcher } from "./field_paths.ts";
 * import assert from "node:assert/strict";
 * const matcher = new FieldMatcher(["card.number", "password"]);
 * const card = matcher.step(matcher.start, "card");
 * assert.ok(!card.matched && matcher.step(card.next, "Number").matched);
 * assert.ok(matcher.step(card.next, "password").matched);
 * ```
 */
export class FieldMatcher {
  readonly #paths: Segment[][];
  readonly #interned = new Map<string, States>();
  /** Where a walk starts: at the record's fields. */
  readonly start: StateSet;
  /** The original paths, by index. */
  readonly paths: readonly string[];

  /** Compiles the paths (check them with {@linkcode fieldPathProblem} first). */
  constructor(paths: readonly string[]) {
    this.paths = paths;
    this.#paths = paths.map((path) => {
      const segments = path.split(".").map(compileSegment);
      return segments.length === 1 ? [{ kind: "deep" } as Segment, ...segments] : segments;
    });
    const start: State[] = [];
    for (let p = 0; p < this.#paths.length; p++) this.#add(start, p, 0);
    this.start = this.#intern(start);
  }

  /** Whether there are any paths at all. */
  get empty(): boolean {
    return this.#paths.length === 0;
  }

  /** Moves past one key of an object. */
  step(set: StateSet, key: string): Step {
    const states = set as States;
    const known = states.keys.get(key);
    if (known !== undefined) return known;
    const step = this.#compute(states.list, key.toLowerCase(), false);
    if (states.keys.size < CACHE_LIMIT) states.keys.set(key, step);
    return step;
  }

  /**
   * Moves into element `index` of an array: `*` and the index itself match it, and the
   * element also keeps the array's own states (arrays are crossed transparently).
   */
  element(set: StateSet, index: number): Step {
    const states = set as States;
    const known = states.indices.get(index);
    if (known !== undefined) return known;
    const moved = this.#compute(states.list, String(index), true);
    const list = [...states.list];
    for (const state of (moved.next as States).list) if (!list.includes(state)) list.push(state);
    const step: Step = { matched: moved.matched, path: moved.path, next: this.#intern(list) };
    if (states.indices.size < CACHE_LIMIT) states.indices.set(index, step);
    return step;
  }

  #compute(states: readonly State[], lower: string, isIndex: boolean): Step {
    const next: State[] = [];
    let matched = -1;
    for (let k = 0; k < states.length; k++) {
      const state = states[k]!;
      const p = Math.floor(state / SHIFT);
      const i = state % SHIFT;
      const path = this.#paths[p]!;
      const segment = path[i]!;
      if (segment.kind === "deep") {
        // `**` consumes this key and stays; what follows it may match the next key.
        if (this.#add(next, p, i) && matched < 0) matched = p;
        continue;
      }
      const hit = segment.kind === "any" ||
        (segment.kind === "exact" && segment.name === lower) ||
        (segment.kind === "glob" && !isIndex && segment.re.test(lower));
      if (!hit) continue;
      if (i + 1 === path.length) {
        if (matched < 0) matched = p;
      } else if (this.#add(next, p, i + 1) && matched < 0) matched = p;
    }
    return { matched: matched >= 0, path: matched, next: this.#intern(next) };
  }

  #intern(list: State[]): States {
    list.sort((a, b) => a - b);
    const id = list.join(",");
    let set = this.#interned.get(id);
    if (set === undefined) this.#interned.set(id, set = new States(list));
    return set;
  }

  /** Adds a state and, through `**`, the states it reaches without consuming a key. */
  #add(states: State[], p: number, i: number): boolean {
    const path = this.#paths[p]!;
    if (i === path.length) return true;
    const state = p * SHIFT + i;
    if (!states.includes(state)) states.push(state);
    return path[i]!.kind === "deep" ? this.#add(states, p, i + 1) : false;
  }
}

function compileSegment(text: string): Segment {
  if (text === "**") return { kind: "deep" };
  if (text === "*") return { kind: "any" };
  const lower = text.toLowerCase();
  if (!lower.includes("*")) return { kind: "exact", name: lower };
  const source = lower.split("*").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return { kind: "glob", re: new RegExp(`^${source}$`) };
}
