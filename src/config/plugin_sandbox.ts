/**
 * The plugin sandbox: `sluice check`, `schema` and `permissions` load the `module:` plugins a
 * config names in a child `deno run --cached-only` process that holds no permissions (no
 * `--allow-*` flag but `--allow-import`, which `--cached-only` confines to modules already
 * cached: the child makes no network request), never in this process, which runs with the
 * user's rights. What validation needs from a plugin comes back as data: its description, its
 * options parsed (issues at their key paths), its permissions, its JSON Schema, and whether
 * `create()` throws. `sluice run` imports plugins in process instead.
 *
 * @module
 */

import { PluginError } from "../plugin/plugin_error.ts";
import type { PluginDefinition, PluginPermissions } from "../plugin/types.ts";
import { isPlainObject, type Issue, type Path } from "../schema/schema.ts";
import { AnswerProof } from "./answer_proof.ts";
import { type ModuleReference, notAPlugin } from "./import_modules.ts";
import {
  type ModuleDescription,
  type ParseAnswer,
  type ParseRequest,
  SANDBOX_LINE,
  type SettleAnswer,
  type SettleItem,
} from "./sandbox_protocol.ts";
import { SandboxedOptions, type SandboxedView, type SchemaHost } from "./sandboxed_options.ts";
import type { ResolvedConfig } from "./types.ts";
import { walkFormatters } from "./walk_formatters.ts";
// The child's module graph is this module's, so a cached Sluice starts it without fetching.
import "./sandbox_child.ts";

/** The sandbox process failed: it would not start, or it exited before it answered. */
export class PluginSandboxError extends Error {
  /** Creates the error; pass the underlying failure as `cause`. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PluginSandboxError";
  }
}

/** Options of a {@linkcode PluginSandbox}. */
export interface PluginSandboxOptions {
  /**
   * Also call each module plugin's `create()` with its parsed options (and dispose what it
   * made): a throw other than a refused permission is an issue at the component (`check`).
   */
  create?: boolean;
  /** How long the child may say nothing, awaited, before it is killed (ms, 60 s unless set). */
  silenceMs?: number;
}

/** The child's side, which this module imports too, so that it is cached wherever Sluice is. */
const CHILD_URL = new URL("./sandbox_child.ts", import.meta.url).href;

/**
 * How long the child may be silent while an answer is awaited: each line it says starts the
 * wait again, and one it never ends (a top level that never yields) kills it, named.
 */
const SILENCE_MS = 60_000;

/** The longest line of the child's stdout (in UTF-16 units); answers are far smaller. */
const MAX_LINE_CHARS = 16 * 1024 * 1024;

/**
 * A sandbox for one config load. Give it to `loadConfig` (`sandbox:`), which then loads the
 * config's `module:` plugins in a `deno run` process without permissions instead of importing
 * them; dispose it after the last use of what the load returned (`permissionsOf` asks it for
 * the plugins' permissions).
 *
 * @example A config without module plugins starts no process
 * ```ts
 * import { PluginSandbox } from "./plugin_sandbox.ts";
 * import { loadConfig } from "./load.ts";
 * import assert from "node:assert/strict";
 * await using sandbox = new PluginSandbox({ create: true });
 * const { config } = await loadConfig({ sinks: { out: { type: "memory" } } }, { sandbox });
 * assert.ok(config.sinks.out?.type === "memory" && sandbox.modules.size === 0);
 * ```
 */
export class PluginSandbox implements AsyncDisposable {
  /** Creates the sandbox; its process starts when a config names a module plugin. */
  constructor(options: PluginSandboxOptions = {}) {
    sessions.set(this, new SandboxSession(options));
  }

  /** The module plugins loaded, by `module:` value (stand-ins that answer from the sandbox). */
  get modules(): ReadonlyMap<string, PluginDefinition> {
    return sandboxSession(this).modules;
  }

  /** Ends the sandbox's process. */
  async [Symbol.asyncDispose](): Promise<void> {
    await sandboxSession(this)[Symbol.asyncDispose]();
  }
}

const sessions = new WeakMap<PluginSandbox, SandboxSession>();

/** The workings of a {@linkcode PluginSandbox}, for the config loader. */
export function sandboxSession(sandbox: PluginSandbox): SandboxSession {
  return sessions.get(sandbox)!;
}

/** The parent side of a sandbox: the child process and what it answered. */
export class SandboxSession implements AsyncDisposable {
  readonly #create: boolean;
  readonly #silenceMs: number;
  #child: Deno.ChildProcess | undefined;
  #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #started = false;
  #exited = false;
  /** What the child said it was doing last: the module it loads, or the settle item. */
  #busy: string | number | undefined;
  /** How the child ended, for messages: `code 0`, `signal SIGKILL`. */
  #ending = "";
  /** Why this sandbox killed its child for breaking the protocol, if it did. */
  #misbehaved: string | undefined;
  /** The current child's secret, which proves its answers (a fresh one for each child). */
  #proof = new AnswerProof();
  /** The number the child's next answer must carry. */
  #seq = 0;
  /** When the current child last said something with proof (`Date.now()`). */
  #heard = 0;
  /** The current child's stdout reader, until it ends. */
  #reading: Promise<void> = Promise.resolve();
  /** Whether the child said it took the request in flight ("took"), so it is to blame. */
  #took = false;
  /** The module whose options the child answered for last, for the message of an end. */
  #answeredFor: string | undefined;
  /** Whether a line that imitates an answer was said to be ignored already. */
  #warned = false;
  readonly #pending = new Map<number, (answer: unknown) => void>();
  #failure: Error | undefined;
  #nextId = 0;
  readonly #answers = new Map<string, ParseAnswer>();
  readonly #wanted = new Map<string, ParseRequest>();
  readonly #views = new WeakMap<object, SandboxedView>();
  readonly #permissions = new WeakMap<object, PluginPermissions>();
  readonly #modules = new Map<string, PluginDefinition>();

  /** Creates the session; its process starts when a config names a module plugin. */
  constructor(options: PluginSandboxOptions = {}) {
    this.#create = options.create ?? false;
    this.#silenceMs = options.silenceMs ?? SILENCE_MS;
  }

  /** The module plugins loaded so far, by `module:` value. */
  get modules(): ReadonlyMap<string, PluginDefinition> {
    return this.#modules;
  }

  /**
   * Loads the modules in the child process and returns a stand-in definition for each one
   * that holds a plugin; why the others did not load is pushed to `issues`.
   */
  async load(
    references: readonly ModuleReference[],
    issues: Issue[],
  ): Promise<Map<string, PluginDefinition>> {
    const out = new Map<string, PluginDefinition>();
    if (references.length === 0) return out;
    const described = await this.#start(references);
    for (const reference of references) {
      const found = described.find((d) => d.specifier === reference.specifier);
      if (!found || found.error !== undefined) {
        issues.push({
          path: reference.path,
          message: found?.error ?? `Cannot load plugin module "${reference.specifier}"`,
        });
      } else if (found.notAPlugin) issues.push(notAPlugin(reference.specifier, reference.path));
      else {
        const definition = this.#standIn(found);
        this.#modules.set(reference.specifier, definition);
        out.set(reference.specifier, definition);
      }
    }
    return out;
  }

  /**
   * Asks the child for every parse a validation pass wanted; resolves `true` when there was
   * any (the validator runs again and finds the answers).
   */
  async answerWanted(): Promise<boolean> {
    const wanted = [...this.#wanted];
    this.#wanted.clear();
    for (const [key, request] of wanted) {
      let answer: ParseAnswer;
      try {
        answer = await this.#request({ parse: request }) as ParseAnswer;
        this.#answeredFor = request.specifier;
      } catch (error) {
        if (!(error instanceof PluginSandboxError) || !this.#exited) throw error;
        // Ended before it took the request: another module's code did it (a timer, a closed
        // stdin), and these options went unchecked.
        const after = this.#answeredFor === undefined
          ? ""
          : `, after it answered for plugin module "${this.#answeredFor}"`;
        answer = {
          issues: [{
            path: request.path,
            message: this.#took
              ? `Plugin module "${request.specifier}" ended the sandbox process ` +
                `(${this.#ending}) while parsing its options`
              : `The options of plugin module "${request.specifier}" were not checked: the ` +
                `sandbox process ended (${this.#ending}) before it read them${after}`,
          }],
          formats: [],
        };
      }
      if (
        !isPlainObject(answer) || !Array.isArray(answer.issues) || !Array.isArray(answer.formats)
      ) {
        answer = {
          issues: [{
            path: request.path,
            message: `Plugin module "${request.specifier}" sent the sandbox a malformed answer ` +
              `while parsing its options`,
          }],
          formats: [],
        };
      }
      this.#answers.set(key, answer);
    }
    return wanted.length > 0;
  }

  /**
   * After validation: asks the child for the permissions of every module component and
   * formatter of `config` (and, with `create`, whether it can be created), pushing what
   * they threw to `issues` at the component.
   */
  async settle(config: ResolvedConfig, issues: Issue[]): Promise<void> {
    const items: SettleItem[] = [];
    const targets: { options: object; path: Path; specifier: string }[] = [];
    const visit = (options: unknown, path: Path, id: string, specifier: string | undefined) => {
      const view = isPlainObject(options) ? this.#views.get(options) : undefined;
      if (!view || specifier === undefined) return;
      const context = { id, baseDir: config.baseDir, dataDir: config.dataDir };
      items.push({ handle: view.handle, formats: view.formats, context, create: this.#create });
      targets.push({ options: options as object, path, specifier });
    };
    for (const section of ["sources", "processors", "sinks"] as const) {
      for (const [id, component] of Object.entries(config[section])) {
        const specifier = [...this.#modules].find(([, d]) => d === component.definition)?.[0];
        visit(component.options, [section, id], id, specifier);
        walkFormatters(component.options, [section, id], (spec, path) => {
          if (spec.module !== undefined && this.#modules.has(spec.module)) {
            visit(spec.options, path, id, spec.module);
          }
        });
      }
    }
    if (items.length === 0) return;
    let answers: SettleAnswer[];
    try {
      answers = await this.#request({ settle: items }) as SettleAnswer[];
    } catch (error) {
      const at = typeof this.#busy === "number" ? targets[this.#busy] : undefined;
      if (!(error instanceof PluginSandboxError) || !this.#exited || !at) throw error;
      issues.push({
        path: at.path,
        atKey: true,
        message: `Plugin module "${at.specifier}" ended the sandbox process (${this.#ending}) ` +
          `in permissions() or create() with these options, so run would end here`,
      });
      return;
    }
    answers.forEach((answer, i) => {
      const { options, path, specifier } = targets[i]!;
      if (answer.permissions) this.#permissions.set(options, answer.permissions);
      if (answer.permissionsError !== undefined) {
        issues.push({
          path,
          atKey: true,
          message:
            `Plugin module "${specifier}" throws in permissions(): ${answer.permissionsError}`,
        });
      }
      if (answer.createError !== undefined) {
        issues.push({
          path,
          atKey: true,
          message: `Plugin module "${specifier}" throws in create() with these options, ` +
            `so run would fail here: ${answer.createError}`,
        });
      }
    });
  }

  /** Ends the child process. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#stop();
  }

  async #stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    await this.#stdin?.close().catch(() => {});
    const exited = await Promise.race([
      child.status.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 2000)),
    ]);
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch {
        // It exited between the race and the kill.
      }
      await child.status;
    }
  }

  #standIn(found: ModuleDescription): PluginDefinition {
    const specifier = found.specifier;
    const definition: PluginDefinition = {
      kind: found.kind!,
      type: found.type!,
      description: found.description ?? "",
      options: new SandboxedOptions(this.#schemaHost, specifier, [], found.jsonSchema),
      create() {
        throw new PluginError(
          `Plugin module "${specifier}" was loaded in the sandbox of check, schema or ` +
            `permissions, where it is never created in process`,
        );
      },
    };
    if (found.writesSync) definition.writesSync = true;
    if (found.needsServer) definition.needsServer = true;
    if (found.permissions) {
      definition.permissions = (options) => this.#permissions.get(options) ?? {};
    }
    return definition;
  }

  /** What a stand-in's options schema needs of the sandbox. */
  readonly #schemaHost: SchemaHost = {
    answer: (key) => this.#answers.get(key),
    want: (key, request) => void this.#wanted.set(key, request),
    keep: (view, entry) => void this.#views.set(view, entry),
  };

  /**
   * Starts the child with `--cached-only`, so that it makes no network request at all (a
   * plugin's `import()` of a computed URL cannot carry its options anywhere). What a plugin
   * imports that is not cached yet is fetched by `deno cache`, which runs nothing, and the
   * child starts once more.
   */
  async #start(references: readonly ModuleReference[]): Promise<ModuleDescription[]> {
    if (this.#started) throw new PluginSandboxError("A plugin sandbox loads one config only");
    this.#started = true;
    const ended: ModuleDescription[] = [];
    let remaining = [...references];
    let cached = false;
    const cache = async (urls: string[]) => {
      cached = true;
      await this.#stop();
      await new Deno.Command(Deno.execPath(), {
        args: ["cache", "--allow-import", ...urls],
        stdin: "null",
        stdout: "null",
        // Its errors (a missing module, a syntax error) come again, positioned, from the child.
        stderr: "null",
      }).output().catch(() => {});
    };
    for (;;) {
      const described = await this.#spawn(remaining);
      if (described) {
        const missing = described.filter((d) => d.notCached).map((d) => urlOf(remaining, d));
        if (missing.length === 0 || cached) return [...ended, ...described];
        await cache(missing);
        continue;
      }
      // A module whose top level ended the process is a problem of its own; the rest load again.
      const culprit = remaining.find((r) => r.specifier === this.#busy);
      if (culprit) {
        ended.push({
          specifier: culprit.specifier,
          error: `Cannot load plugin module "${culprit.specifier}": its top level ended the ` +
            `sandbox process (${this.#ending})`,
        });
        remaining = remaining.filter((r) => r !== culprit);
        await this.#stop();
        if (remaining.length === 0) return ended;
        continue;
      }
      if (cached) throw this.#failure!;
      await cache([CHILD_URL, ...remaining.map((r) => r.url)]);
    }
  }

  /** Starts a child; resolves its modules' descriptions, or `undefined` if it exited first. */
  async #spawn(references: readonly ModuleReference[]): Promise<ModuleDescription[] | undefined> {
    const main = [
      `import { serveSandbox } from ${JSON.stringify(CHILD_URL)};`,
      "await serveSandbox([",
      // Literal import()s: Deno loads them with the main module's graph, needing no read.
      ...references.map((r) =>
        `  [${JSON.stringify(r.specifier)}, () => import(${JSON.stringify(r.url)})],`
      ),
      "]);",
    ].join("\n");
    // No --allow-* flag but --allow-import, which --cached-only confines to what is cached.
    const args = [
      "run",
      "--no-prompt",
      "--cached-only",
      "--allow-import",
      `data:application/typescript,${encodeURIComponent(main)}`,
    ];
    let process: Deno.ChildProcess;
    try {
      process = new Deno.Command(Deno.execPath(), {
        args,
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
    } catch (error) {
      throw new PluginSandboxError(
        `Cannot start the plugin sandbox (deno run without permissions): ${String(error)}`,
        { cause: error },
      );
    }
    this.#child = process;
    this.#failure = undefined;
    this.#exited = false;
    this.#misbehaved = undefined;
    this.#stdin = process.stdin.getWriter();
    this.#busy = undefined;
    this.#proof = new AnswerProof();
    this.#seq = 0;
    this.#heard = Date.now();
    const ready = new Promise<unknown>((resolve) => this.#pending.set(0, resolve));
    this.#reading = this.#read(process);
    // The first line on stdin, read before any plugin is imported: the answers' secret.
    await this.#stdin.write(new TextEncoder().encode(this.#proof.secretLine)).catch(() => {});
    try {
      return await this.#wait(0, ready) as ModuleDescription[];
    } catch (error) {
      if (this.#child === process && this.#exited) return undefined;
      throw error;
    }
  }

  async #read(process: Deno.ChildProcess): Promise<void> {
    const decoder = new TextDecoder();
    // The pieces of the line not ended yet, and their length: linear however it arrives.
    let pieces: string[] = [];
    let length = 0;
    const reader = process.stdout.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const parts = decoder.decode(value, { stream: true }).split("\n");
        for (let i = 0; i < parts.length - 1 && !this.#misbehaved; i++) {
          pieces.push(parts[i]!);
          this.#line(pieces.join(""), process);
          pieces = [];
          length = 0;
        }
        const rest = parts[parts.length - 1]!;
        if (rest !== "") {
          pieces.push(rest);
          length += rest.length;
        }
        if (!this.#misbehaved && length > MAX_LINE_CHARS) {
          this.#misbehave(
            process,
            `it wrote more than ${MAX_LINE_CHARS / (1024 * 1024)} MiB to stdout without a newline`,
          );
        }
        if (this.#misbehaved) break;
      }
    } catch {
      // The pipe broke: the exit below says what happened.
    }
    if (this.#misbehaved) await reader.cancel().catch(() => {});
    else if (length > 0) this.#line(pieces.join(""), process);
    reader.releaseLock();
    const status = await process.status;
    if (this.#child !== process) return; // a child this sandbox has stopped and replaced
    this.#exited = true;
    this.#ending = this.#misbehaved ??
      (status.signal ? `signal ${status.signal}` : `code ${status.code}`);
    this.#failure = new PluginSandboxError(
      `The plugin sandbox (deno run without permissions) exited with ${this.#ending} ` +
        `before it answered`,
    );
    for (const settle of this.#pending.values()) settle(undefined);
    this.#pending.clear();
  }

  /** The child broke the protocol (`reason`, for messages): it is killed, and ends so. */
  #misbehave(process: Deno.ChildProcess, reason: string): void {
    if (this.#child !== process || this.#misbehaved) return;
    this.#misbehaved = `killed: ${reason}`;
    try {
      process.kill("SIGKILL");
    } catch {
      // It has exited already.
    }
  }

  #line(line: string, process: Deno.ChildProcess): void {
    // The child starts each answer on a line of its own: the empty lines are its.
    if (line === "") return;
    const body = this.#proof.body(line);
    if (body === undefined) {
      // A plugin wrote to stdout itself: pass it on where it cannot be taken for an answer.
      console.error(line);
      if (line.startsWith(SANDBOX_LINE) && !this.#warned) {
        this.#warned = true;
        console.error(
          "A plugin module wrote to stdout a line that looks like a plugin sandbox answer " +
            "but is not one (it lacks the sandbox's proof): it is ignored",
        );
      }
      return;
    }
    let message: {
      seq?: number;
      ready?: ModuleDescription[];
      busy?: string | number;
      took?: boolean;
      id?: number;
      answer?: unknown;
    };
    try {
      message = JSON.parse(body);
    } catch {
      this.#misbehave(process, "it wrote a malformed answer line to stdout");
      return;
    }
    if (!isPlainObject(message)) {
      this.#misbehave(process, "it wrote a malformed answer line to stdout");
      return;
    }
    if (message.seq !== this.#seq) {
      this.#misbehave(process, "it wrote an answer out of order to stdout");
      return;
    }
    this.#seq++;
    this.#heard = Date.now();
    if (message.busy !== undefined) {
      this.#busy = message.busy;
      return;
    }
    if (message.took === true) return void (this.#took = true);
    const id = message.ready ? 0 : message.id!;
    const settle = this.#pending.get(id);
    this.#pending.delete(id);
    settle?.(message.ready ?? message.answer);
  }

  async #request(request: { parse: ParseRequest } | { settle: SettleItem[] }): Promise<unknown> {
    this.#took = false;
    if (!this.#stdin) throw new PluginSandboxError("The plugin sandbox is not running");
    if (this.#failure) throw this.#failure;
    const id = ++this.#nextId;
    const answered = new Promise<unknown>((resolve) => this.#pending.set(id, resolve));
    // A broken pipe means the child ended before this reached it: #wait hears how from #read.
    const line = new TextEncoder().encode(JSON.stringify({ id, ...request }) + "\n");
    await this.#stdin.write(line).catch(() => {});
    return await this.#wait(id, answered);
  }

  async #wait<T>(id: number, answered: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Silence, not the whole wait, is bounded: each line with proof starts it again.
    const timeout = new Promise<undefined>((resolve) => {
      const left = () => this.#heard + this.#silenceMs - Date.now();
      const arm = () => {
        timer = setTimeout(() => (left() <= 0 ? resolve(undefined) : arm()), left());
      };
      arm();
    });
    const answer = await Promise.race([answered, timeout]).finally(() => clearTimeout(timer));
    if (answer === undefined) {
      this.#pending.delete(id);
      const process = this.#child;
      if (process && !this.#exited) {
        // Hung where its own timeouts cannot fire (a top level that never yields): kill it,
        // so that the module (or settle item) it was on is named.
        this.#misbehave(process, `it said nothing for ${this.#silenceMs / 1000} s`);
        await this.#reading;
      }
      throw this.#failure ?? new PluginSandboxError(
        `The plugin sandbox did not answer within ${this.#silenceMs / 1000} s`,
      );
    }
    return answer;
  }
}

function urlOf(references: readonly ModuleReference[], found: ModuleDescription): string {
  return references.find((r) => r.specifier === found.specifier)!.url;
}
