/**
 * The side of the plugin sandbox that runs in the child `deno run` process, which holds no
 * permissions: it imports the `module:` plugins and answers, over stdin and stdout, what
 * `check`, `schema` and `permissions` need from them (their description, their options
 * parsed, their permissions, whether `create()` throws). The parent is `plugin_sandbox.ts`.
 *
 * @module
 */

import { messageOf } from "../core/message_of.ts";
import type { LogRecord } from "../core/record.ts";
import type { Formatter, PluginContext, PluginDefinition, SourceContext } from "../plugin/types.ts";
import type { FormatterSpec, Issue, ParseContext, Path } from "../schema/schema.ts";
import { parseOptions } from "./component_schema.ts";
import { definitionIn, moduleError } from "./import_modules.ts";
import {
  FORMAT_PLACEHOLDER,
  FORMATTER_SCHEMA_MARK,
  type ModuleDescription,
  type ParseAnswer,
  type ParseRequest,
  SANDBOX_LINE,
  SECRET_BYTES,
  type SettleAnswer,
  type SettleItem,
} from "./sandbox_protocol.ts";

/** A module plugin's loader, as the generated main module writes it: `() => import("…")`. */
export type SandboxLoader = readonly [specifier: string, load: () => Promise<unknown>];

/** How long a module's top level or a `create()` may take before it counts as hung. */
const TIMEOUT_MS = 10_000;

// What the answers are written with, taken when this module is evaluated: before the main
// module's first `import()` of a plugin, so a plugin's top level that replaces a global
// (`JSON.stringify`, `Deno.stdout.writeSync`, `crypto.subtle.sign`, `TextEncoder`…) changes
// nothing here. Deno's Web Crypto is written with its own captured intrinsics, and answers are
// written by `toJson`, which calls no `toJSON()` a plugin could give every object.
//
// Threat model: a plugin runs in this isolate, so it is never fully isolated from the harness.
// What it cannot do: read the secret (it comes on stdin before any plugin is imported, and is
// kept only as a non-extractable CryptoKey in this module's scope; stdin stays open, as the
// requests come on it, but its stream's reader is the harness's), write a line the parent
// takes for an answer (it has no proof; the parent numbers the answers, so an old one cannot
// be replayed), or intercept the answers through the globals above. What remains possible:
// changing shared intrinsics that Sluice's own code here still uses when it parses options or
// builds an answer (`Array.prototype.push`, `Object.entries`, `Promise.prototype.then`…), which
// can change what is said about any module loaded in the same process, including another
// plugin's issues or permissions; stealing requests from stdin (`Deno.stdin.read`), which makes
// the parent time out or fail, never pass; and ending or hanging the process, which the parent
// reports at the module it was on. Only a process per module would close the first.
const stringify = JSON.stringify;
const parseJson = JSON.parse;
const encoder = new TextEncoder();
const encode = encoder.encode.bind(encoder);
const decoder = new TextDecoder();
const decode = decoder.decode.bind(decoder);
const subtle = crypto.subtle;
const importKey = subtle.importKey.bind(subtle);
const sign = subtle.sign.bind(subtle);
const stdout = Deno.stdout;
const writeSync = stdout.writeSync.bind(stdout);
const exit = Deno.exit;
const Bytes = Uint8Array;
const toText = String;
const keysOf = Object.keys;
const isArray = Array.isArray;
const prototypeOf = Object.getPrototypeOf;
const apply = Reflect.apply;
const ObjectPrototype = Object.prototype;
const ArrayPrototype = Array.prototype;
const isRegExp = Object.prototype.isPrototypeOf.bind(RegExp.prototype);
const isBytes = Object.prototype.isPrototypeOf.bind(Uint8Array.prototype);
const JsonError = TypeError;
const emptyRecord = Object.create;
const HEX = "0123456789abcdef";

/**
 * JSON text of `value`, as `JSON.stringify` with `jsonSafe` writes it, except that a plain
 * object or a list never has its `toJSON()` called: a plugin that gives `Object.prototype` one
 * cannot rewrite the answers (a class instance's, such as a `Date`'s, is still called). A
 * cycle throws a `TypeError` naming its key path, as `JSON.stringify` throws one (a stack
 * overflow would say nothing of where).
 */
function toJson(
  value: unknown,
  key = "",
  depth = 0,
  ancestors: Record<number, { value: object; key: string }> = emptyRecord(null),
): string | undefined {
  if (typeof value === "object" && value !== null) {
    const proto = prototypeOf(value);
    if (proto !== ObjectPrototype && proto !== ArrayPrototype && proto !== null) {
      if (isRegExp(value)) return stringify(toText(value));
      if (isBytes(value)) return stringify(`<${(value as Uint8Array).length} bytes>`);
      const method = (value as { toJSON?: unknown }).toJSON;
      if (typeof method === "function") value = apply(method, value, [key]);
    }
  }
  switch (typeof value) {
    case "string":
      return stringify(value);
    case "number":
      return value === value && value !== Infinity && value !== -Infinity ? "" + value : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return stringify("" + value);
    case "object":
      break;
    default:
      return undefined;
  }
  if (value === null) return "null";
  // The ancestors in a record without a prototype, not a list or a Set: a plugin may have
  // given Array.prototype an indexed setter, or replaced Set.prototype.has.
  for (let i = 0; i < depth; i++) {
    if (ancestors[i]!.value === value) {
      let at = "";
      for (let j = 1; j < depth; j++) at += stringify(ancestors[j]!.key) + ",";
      throw new JsonError(`it holds a cycle (at key path [${at}${stringify(key)}])`);
    }
  }
  ancestors[depth] = { value, key };
  let out = "";
  if (isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      out += (i ? "," : "") + (toJson(value[i], "" + i, depth + 1, ancestors) ?? "null");
    }
    return "[" + out + "]";
  }
  const keys = keysOf(value);
  for (let i = 0; i < keys.length; i++) {
    const item = toJson(
      (value as Record<string, unknown>)[keys[i]!],
      keys[i]!,
      depth + 1,
      ancestors,
    );
    if (item !== undefined) out += (out ? "," : "") + stringify(keys[i]) + ":" + item;
  }
  return "{" + out + "}";
}

/** The child's end of the protocol: the secret's key, the answers' numbers, the stdin reader. */
interface Channel {
  key: CryptoKey;
  seq: number;
  read: () => Promise<ReadableStreamReadResult<Uint8Array>>;
  /** What stdin held after the secret's line. */
  rest: string;
}

/** Reads the secret's line from stdin and imports it as an HMAC key that cannot be exported. */
async function openChannel(): Promise<Channel> {
  const reader = Deno.stdin.readable.getReader();
  const read = reader.read.bind(reader);
  let text = "";
  let newline: number;
  while ((newline = text.indexOf("\n")) < 0) {
    const { done, value } = await read();
    if (done) exit(1);
    text += decode(value, { stream: true });
  }
  const hex = text.slice(0, newline);
  if (hex.length !== SECRET_BYTES * 2 || !/^[0-9a-f]+$/.test(hex)) exit(1);
  const secret = new Bytes(SECRET_BYTES);
  for (let i = 0; i < SECRET_BYTES; i++) secret[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  const key = await importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  secret.fill(0);
  return { key, seq: 0, read, rest: text.slice(newline + 1) };
}

/**
 * One answer line: on a line of its own (a newline first ends whatever a plugin left
 * unfinished on stdout), with its number and its proof. Numbered when signed, so lines are
 * written in the order they were signed.
 */
async function signedLine(channel: Channel, message: Record<string, unknown>): Promise<Uint8Array> {
  const body = toJson({ seq: channel.seq++, ...message })!;
  const mac = new Bytes(await sign("HMAC", channel.key, encode(body)));
  let hex = "";
  for (let i = 0; i < mac.length; i++) hex += HEX[mac[i]! >> 4]! + HEX[mac[i]! & 15]!;
  return encode("\n" + SANDBOX_LINE + hex + " " + body + "\n");
}

function writeLine(bytes: Uint8Array): void {
  // A pipe may take part of a large answer at a time.
  for (let written = 0; written < bytes.length;) {
    written += writeSync(bytes.subarray(written));
  }
}

async function sendOn(channel: Channel, message: Record<string, unknown>): Promise<void> {
  writeLine(await signedLine(channel, message));
}

interface Parsed {
  definition: PluginDefinition;
  value: Record<string, unknown>;
}

/**
 * Imports each plugin (a literal `import()` in the main module, so Deno loads it without a
 * read permission), reports what it found, then answers requests until stdin closes.
 *
 * @example The child's entry point, as the sandbox writes it
 * ```ts
 * import { serveSandbox } from "./sandbox_child.ts";
 * import assert from "node:assert/strict";
 * assert.ok(typeof serveSandbox === "function");
 * // await serveSandbox([["./counts.ts", () => import("file:///srv/counts.ts")]]);
 * ```
 */
export async function serveSandbox(loaders: readonly SandboxLoader[]): Promise<void> {
  // A plugin's own console output must not mix with the answers on stdout.
  console.log = console.info = console.debug = console.error;
  // Before any plugin is imported: the secret, and the stdin reader (a plugin cannot take it).
  const channel = await openChannel();
  const send = (message: Record<string, unknown>) => sendOn(channel, message);
  const definitions = new Map<string, PluginDefinition>();
  const described: ModuleDescription[] = [];
  for (const [specifier, load] of loaders) {
    let namespace: Record<string, unknown>;
    // Said first, so that the parent knows which module ended the process if one does.
    await send({ busy: specifier });
    try {
      namespace = await within(load() as Promise<Record<string, unknown>>, "loading");
    } catch (error) {
      // What Deno says under --cached-only for a module, or an npm package, it has not fetched.
      const notCached = /--cached-only is specified|Could not find npm package/.test(
        messageOf(error),
      );
      described.push({
        specifier,
        error: moduleError(specifier, error),
        ...(notCached ? { notCached: true } : {}),
      });
      continue;
    }
    const definition = definitionIn(namespace);
    if (!definition) {
      described.push({ specifier, notAPlugin: true });
      continue;
    }
    // Written as JSON now, while this module is the one named busy: a description that
    // cannot be would otherwise end the process at "ready", and the parent would blame the
    // module loaded last.
    let description: ModuleDescription;
    try {
      description = parseJson(toJson(describeDefinition(specifier, definition))!);
    } catch (error) {
      described.push({
        specifier,
        error: `Cannot load plugin module "${specifier}": its definition cannot be written ` +
          `as JSON: ${firstLine(messageOf(error))}`,
      });
      continue;
    }
    definitions.set(specifier, definition);
    described.push(description);
  }
  await send({ ready: described });

  const parsed = new Map<number, Parsed>();
  let handles = 0;
  let buffered = channel.rest;
  // "took", signed ahead and written as soon as a request is read, before an await could let
  // a plugin's timer run: the parent blames a request for the end of the process only if it
  // was taken. Ended while waiting for one (a plugin that closed stdin, or whose timer fired),
  // the process has said nothing of the next request, which is then reported as not checked.
  let took = await signedLine(channel, { took: true });
  for (;;) {
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const request = parseJson(line) as
        | { id: number; parse: ParseRequest }
        | { id: number; settle: SettleItem[] };
      writeLine(took);
      if ("parse" in request) {
        const answer = parse(request.parse, definitions, (entry) => {
          parsed.set(++handles, entry);
          return handles;
        });
        await send({ id: request.id, answer });
      } else {
        const answers: SettleAnswer[] = [];
        for (let i = 0; i < request.settle.length; i++) {
          await send({ busy: i });
          answers[i] = await settle(request.settle[i]!, parsed, definitions);
        }
        await send({ id: request.id, answer: answers });
      }
      took = await signedLine(channel, { took: true });
    }
    let read: ReadableStreamReadResult<Uint8Array>;
    try {
      read = await channel.read();
    } catch {
      // A plugin closed stdin: the parent reports the request it waits for as not checked, so
      // an uncaught error's stack here would only be noise on the user's stderr.
      return exit(1);
    }
    if (read.done) break;
    buffered += decode(read.value, { stream: true });
  }
  exit(0);
}

function describeDefinition(specifier: string, definition: PluginDefinition): ModuleDescription {
  let jsonSchema: Record<string, unknown> | undefined;
  try {
    const schema = definition.options.jsonSchema({
      formatter: () => ({ ...FORMATTER_SCHEMA_MARK }),
    });
    jsonSchema = parseJson(toJson(schema)!);
  } catch {
    // A schema that cannot describe itself, or be written as JSON, is left open.
  }
  return {
    specifier,
    kind: definition.kind,
    type: definition.type,
    description: String(definition.description ?? ""),
    writesSync: definition.writesSync === true,
    needsServer: definition.needsServer === true,
    permissions: typeof definition.permissions === "function",
    ...(jsonSchema ? { jsonSchema } : {}),
  };
}

function parse(
  request: ParseRequest,
  definitions: ReadonlyMap<string, PluginDefinition>,
  keep: (entry: Parsed) => number,
): ParseAnswer {
  const definition = definitions.get(request.specifier)!;
  const fromEnvironment = new Set(request.env.map((path) => toJson(path)));
  const formats: { path: Path; value: unknown }[] = [];
  const ctx: ParseContext = {
    issues: [],
    fromEnvironment: (path) => fromEnvironment.has(toJson(path)),
    // Formatters are resolved by the parent, which knows every plugin: mark where they are.
    resolveFormatter: (value, path) => {
      formats.push({ path, value });
      return { type: FORMAT_PLACEHOLDER, options: {} };
    },
  };
  let value: Record<string, unknown> | undefined;
  try {
    value = parseOptions(definition, request.spec, request.keys, request.path, ctx);
  } catch (error) {
    const issue: Issue = {
      path: request.path,
      message: `Plugin "${definition.type}" threw while parsing its options: ${
        firstLine(messageOf(error))
      }`,
    };
    return { issues: [...ctx.issues, issue], formats };
  }
  // The formats are the parent's to check, whether or not the rest parsed.
  if (value === undefined) return { issues: ctx.issues, formats };
  let json: Record<string, unknown>;
  try {
    json = parseJson(toJson(value) ?? "{}");
  } catch (error) {
    // A cycle, a getter that throws: `run` may take such options, but the parent cannot see
    // them; the plugin's, said at its component, rather than the end of the process.
    const issue: Issue = {
      path: request.path,
      message: `Plugin "${definition.type}" parsed its options into a value that cannot be ` +
        `written as JSON: ${firstLine(messageOf(error))}`,
    };
    return { issues: [...ctx.issues, issue], formats };
  }
  return { handle: keep({ definition, value }), value: json, issues: ctx.issues, formats };
}

async function settle(
  item: SettleItem,
  parsed: ReadonlyMap<number, Parsed>,
  definitions: ReadonlyMap<string, PluginDefinition>,
): Promise<SettleAnswer> {
  const entry = parsed.get(item.handle)!;
  const options = entry.value;
  // The paths are this plugin's own (its parse() chose them, the parent checked them against
  // the options' JSON): set them as they are, in the options themselves.
  for (const { path, spec } of item.formats) {
    let node = options as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    node[path[path.length - 1]!] = spec;
  }
  const { definition } = entry;
  const answer: SettleAnswer = {};
  if (typeof definition.permissions === "function") {
    try {
      answer.permissions = parseJson(
        toJson(definition.permissions(options as never, item.context)) as string,
      );
    } catch (error) {
      answer.permissionsError = firstLine(messageOf(error));
    }
  }
  if (item.create) {
    const controller = new AbortController();
    try {
      const created = await within(
        Promise.resolve(
          definition.create(options as never, createContext(item, definitions, controller)),
        ),
        "creating",
      );
      controller.abort();
      await dispose(created);
    } catch (error) {
      controller.abort();
      // Without permissions the component could not open what it opens at run: that is the
      // sandbox speaking, not the plugin's options.
      if (!needsPermission(error)) answer.createError = describeError(error);
    }
  }
  return answer;
}

/** The context `create()` gets in the sandbox: no records flow, counters count nothing. */
function createContext(
  item: SettleItem,
  definitions: ReadonlyMap<string, PluginDefinition>,
  controller: AbortController,
): SourceContext {
  const context: SourceContext = {
    id: item.context.id,
    baseDir: item.context.baseDir,
    dataDir: item.context.dataDir,
    createFormatter(spec: FormatterSpec): Formatter {
      const definition = spec.module !== undefined ? definitions.get(spec.module) : undefined;
      if (definition?.kind === "formatter") {
        return definition.create(spec.options as never, context as PluginContext) as Formatter;
      }
      // A built-in formatter is Sluice's own and made at run; here it only has to exist.
      return (record: LogRecord) => record.message;
    },
    counter: () => ({ inc() {}, value: 0 }),
    log: { warnOnce() {}, info() {} },
    signal: controller.signal,
    emit: () => Promise.resolve(),
    emitAcknowledged: () => Promise.resolve(true),
    reject() {},
    push() {},
    minLevel: 0,
    owner: {},
  };
  return context;
}

async function dispose(created: unknown): Promise<void> {
  if (typeof created !== "object" && typeof created !== "function") return;
  if (created === null) return;
  const disposable = created as Partial<AsyncDisposable & Disposable>;
  try {
    const asyncDispose = disposable[Symbol.asyncDispose];
    const syncDispose = disposable[Symbol.dispose];
    if (typeof asyncDispose === "function") {
      await within(Promise.resolve(asyncDispose.call(created)), "disposing");
    } else if (typeof syncDispose === "function") syncDispose.call(created);
  } catch {
    // Disposing what was made only to see that it can be made: nothing is left to report.
  }
}

/** Whether an error, or any error in its cause chain, is Deno refusing a permission. */
function needsPermission(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      return true;
    }
    if (e.name === "NotCapable" || /\bRequires \w+ access to /.test(e.message)) return true;
  }
  return false;
}

function describeError(error: unknown): string {
  let text = firstLine(messageOf(error));
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause !== undefined) {
    const inner = firstLine(messageOf(cause));
    if (inner !== "" && !text.includes(inner)) text += ` (${inner})`;
  }
  return text;
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`It was still ${what} after ${TIMEOUT_MS / 1000} s`)),
      TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function firstLine(text: string): string {
  return text.split("\n")[0]!.trim();
}
