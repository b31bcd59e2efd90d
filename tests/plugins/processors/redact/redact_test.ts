import assert from "node:assert/strict";
import fc from "fast-check";
import { ConfigError, configure, getLogger, shutdown } from "../../../../mod.ts";
import { loadBuiltins } from "../../../../plugins/mod.ts";

const builtins = await loadBuiltins();
import redact, {
  createRedactor,
  type RedactorOptions,
} from "../../../../plugins/processors/redact/mod.ts";
import { createRecord, type LogRecord, type SerializedError } from "../../../../src/core/record.ts";
import { Keyring } from "../../../../src/crypto/decrypt_stream.ts";
import { decodeKey, generateKey } from "../../../../src/crypto/keys.ts";
import type { Formatter, PluginContext } from "../../../../src/plugin/types.ts";
import {
  BUILTIN_PATTERN_NAMES,
  BUILTIN_PATTERNS,
  luhnValid,
} from "../../../../plugins/processors/redact/patterns.ts";
import type { FormatterSpec } from "../../../../src/schema/schema.ts";

const ALL_PATTERNS = [...BUILTIN_PATTERN_NAMES];
const FIELDS = ["password", "*.token", "card.number", "headers.authorization"];
const HASH_SECRET = new TextEncoder().encode("redaction hash secret, 32 bytes!");

function redactor(options: Partial<RedactorOptions> = {}): (record: LogRecord) => LogRecord {
  return createRedactor({
    fields: FIELDS,
    patterns: ALL_PATTERNS,
    mode: "mask",
    mask: "[REDACTED]",
    ...options,
  });
}

/** A plugin context good enough to create formatters directly. */
function formatterContext(env: Record<string, string> = {}): PluginContext {
  const context: PluginContext = {
    id: "test",
    baseDir: Deno.cwd(),
    dataDir: Deno.cwd(),
    signal: new AbortController().signal,
    log: { warnOnce() {}, info() {} },
    counter: () => ({ inc() {}, value: 0 }),
    createFormatter: (spec: FormatterSpec) => makeFormatter(spec.type, spec.options, env),
  };
  return context;
}

function makeFormatter(
  type: string,
  raw: Record<string, unknown> = {},
  env: Record<string, string> = {},
): Formatter {
  const definition = builtins.find((p) => p.kind === "formatter" && p.type === type)!;
  const issues: { message: string }[] = [];
  const options = definition.options.parse(raw, [], { issues: issues as never });
  assert.equal(issues.length, 0, JSON.stringify(issues));
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  try {
    return definition.create(options as never, formatterContext(env) as never) as Formatter;
  } finally {
    for (const k of Object.keys(env)) Deno.env.delete(k);
  }
}

const asText = (out: string | Uint8Array) =>
  typeof out === "string" ? out : new TextDecoder().decode(out);

// ---------------------------------------------------------------------------------------
// Field paths, patterns, modes

Deno.test("redact masks configured field paths at any depth, through arrays, ignoring case", () => {
  const out = redactor({ patterns: [] })(createRecord({
    message: "login",
    fields: {
      password: "p1",
      user: { name: "ada", Password: "p2", sessions: [{ token: "t-nested-too-deep" }] },
      api: { token: "t1" },
      list: [{ token: "t2" }, { other: 1 }],
      card: { number: "n1", brand: "visa" },
      headers: { Authorization: "Bearer xyz", accept: "*/*" },
      token: "top-level token is not *.token",
    },
  }));
  assert.deepEqual(out.fields, {
    password: "[REDACTED]",
    user: { name: "ada", Password: "[REDACTED]", sessions: [{ token: "t-nested-too-deep" }] },
    api: { token: "[REDACTED]" },
    list: [{ token: "[REDACTED]" }, { other: 1 }],
    card: { number: "[REDACTED]", brand: "visa" },
    headers: { Authorization: "[REDACTED]", accept: "*/*" },
    token: "top-level token is not *.token",
  });
});

Deno.test("redact field paths: ** reaches any depth, globs match inside a name, * matches an index", () => {
  const redact = redactor({ fields: ["**.secret", "*_key", "items.*.sku"], patterns: [] });
  const out = redact(createRecord({
    message: "m",
    fields: {
      a: { b: { c: { secret: 1 } } },
      secret: 2,
      api_key: "k",
      keys: "kept",
      items: [{ sku: "s1", qty: 1 }, { sku: "s2" }],
    },
  }));
  assert.deepEqual(out.fields, {
    a: { b: { c: { secret: "[REDACTED]" } } },
    secret: "[REDACTED]",
    api_key: "[REDACTED]",
    keys: "kept",
    items: [{ sku: "[REDACTED]", qty: 1 }, { sku: "[REDACTED]" }],
  });
});

Deno.test("redact catches each built-in pattern's documented example, in every mode", () => {
  for (const name of BUILTIN_PATTERN_NAMES) {
    const { text, secret } = BUILTIN_PATTERNS[name].example;
    for (const mode of ["mask", "remove", "hash"] as const) {
      const out = redactor({ fields: [], patterns: [name], mode, secret: HASH_SECRET })(
        createRecord({ message: text }),
      );
      assert.ok(!out.message.includes(secret), `${name} (${mode}): ${out.message}`);
      const expected = mode === "mask" ? "[REDACTED]" : mode === "remove" ? "" : "[hmac:";
      assert.ok(out.message.includes(expected), `${name} (${mode}): ${out.message}`);
    }
  }
});

Deno.test("redact keeps the context around a secret: the Bearer word, the URL's user and host", () => {
  const out = redactor({ fields: [] })(createRecord({
    message:
      "GET https://app:hunter2hunter2@db.example/x with Authorization: Bearer abc.def-123_456",
  }));
  assert.equal(
    out.message,
    "GET https://app:[REDACTED]@db.example/x with Authorization: Bearer [REDACTED]",
  );
});

Deno.test("redact credit cards need the Luhn check: order numbers and ids survive, cards in any grouping do not", () => {
  const redact = redactor({ fields: [], patterns: ["credit_card"] });
  const text = (message: string) => redact(createRecord({ message })).message;
  assert.ok(luhnValid("4111111111111111") && !luhnValid("1234567890123456"));
  assert.equal(text("order 1234567890123456 shipped"), "order 1234567890123456 shipped");
  assert.equal(text("ids 12345678901234567890123"), "ids 12345678901234567890123");
  assert.equal(text("card 4111111111111111"), "card [REDACTED]");
  assert.equal(text("card 4111-1111-1111-1111."), "card [REDACTED].");
  assert.equal(text("amex 3782 822463 10005"), "amex [REDACTED]");
  assert.equal(text("qty 12 4111 1111 1111 1111"), "qty 12 [REDACTED]");
  assert.equal(text("x4111111111111111y"), "x[REDACTED]y");
  assert.equal(
    text("phone 555-123-4567 and date 2026-11-24"),
    "phone 555-123-4567 and date 2026-11-24",
  );
});

Deno.test("redact hash mode: equal values give equal HMACs (joinable), another secret gives others", () => {
  const one = redactor({ mode: "hash", secret: HASH_SECRET });
  const other = redactor({
    mode: "hash",
    secret: new TextEncoder().encode("a completely different secret"),
  });
  const record = (email: string, password: string) =>
    createRecord({ message: `login ${email}`, fields: { password } });
  const a = one(record("ada@example.com", "pw1"));
  const b = one(record("ada@example.com", "pw1"));
  const c = one(record("bob@example.com", "pw2"));
  assert.match(a.message, /^login \[hmac:[0-9a-f]{32}\]$/);
  assert.equal(a.message, b.message);
  assert.equal(a.fields.password, b.fields.password);
  assert.notEqual(a.message, c.message);
  assert.notEqual(a.fields.password, c.fields.password);
  assert.notEqual(other(record("ada@example.com", "pw1")).message, a.message);
  // The same card written differently hashes the same.
  const cards = ["4111 1111 1111 1111", "4111-1111-1111-1111"].map((card) =>
    one(createRecord({ message: card })).message
  );
  assert.equal(cards[0], cards[1]);
});

Deno.test("redact remove mode drops matched fields and cuts secrets out of text", () => {
  const out = redactor({ mode: "remove" })(createRecord({
    message: "mail ada@example.com now",
    fields: { password: "x", keep: 1, list: [{ token: "t" }], api: { token: "t", id: 2 } },
  }));
  assert.equal(out.message, "mail  now");
  assert.deepEqual(out.fields, { keep: 1, list: [{}], api: { id: 2 } });
});

Deno.test("redact covers the error: message, stack and the cause chain", () => {
  const cause: SerializedError = { name: "Error", message: "db user ada@example.com" };
  const error: SerializedError = {
    name: "Error",
    message: "payment with 4111 1111 1111 1111 failed",
    stack: "Error: payment with 4111 1111 1111 1111 failed\n    at pay (app.ts:1:1)",
    cause,
  };
  const out = redactor()(createRecord({ message: "m", error }));
  assert.equal(out.error?.message, "payment with [REDACTED] failed");
  assert.equal(out.error?.stack, "Error: payment with [REDACTED] failed\n    at pay (app.ts:1:1)");
  assert.deepEqual(out.error?.cause, { name: "Error", message: "db user [REDACTED]" });
  assert.equal(error.message, "payment with 4111 1111 1111 1111 failed", "the input is untouched");
});

Deno.test("redact finds secrets in field names and numbers, survives cycles and deep nesting", () => {
  const cyclic: Record<string, unknown> = { note: "ada@example.com" };
  cyclic.self = cyclic;
  let deep: Record<string, unknown> = { leaf: "AKIAIOSFODNN7EXAMPLE" };
  for (let i = 0; i < 100; i++) deep = { d: deep };
  const out = redactor()(createRecord({
    message: "m",
    fields: {
      "ada@example.com": 1,
      card: 4111111111111111,
      n: 42,
      cyclic,
      deep,
      when: new Date(0),
    },
  }));
  assert.deepEqual(Object.keys(out.fields), ["[REDACTED]", "card", "n", "cyclic", "deep", "when"]);
  assert.equal(out.fields.card, "[REDACTED]");
  assert.equal(out.fields.n, 42);
  assert.deepEqual(out.fields.cyclic, { note: "[REDACTED]", self: "[Circular]" });
  assert.ok(!JSON.stringify(out.fields.deep).includes("AKIA"));
  assert.ok(out.fields.when instanceof Date);
});

Deno.test("redact returns the same record when nothing matches, and never mutates its input", () => {
  const record = createRecord({
    message: "request handled in 12 ms",
    fields: { user: "ada", status: 200, tags: ["a", "b"], nested: { ok: true } },
  });
  const copy = structuredClone(record);
  assert.equal(redactor()(record), record);
  const secretRecord = createRecord({ message: "x", fields: { user: { password: "pw" } } });
  const before = structuredClone(secretRecord);
  const out = redactor()(secretRecord);
  assert.notEqual(out, secretRecord);
  assert.deepEqual(secretRecord, before);
  assert.deepEqual(record, copy);
});

Deno.test("redact user patterns: regexes with flags, counted under their name", () => {
  const counts = new Map<string, number>();
  const redact = createRedactor({
    fields: [],
    patterns: ["email", { name: "order_token", regex: "tok_[a-z0-9]{8}", flags: "i" }],
    mode: "mask",
    mask: "***",
    counter: (_kind, rule) => ({
      inc: () => counts.set(rule, (counts.get(rule) ?? 0) + 1),
      get value() {
        return counts.get(rule) ?? 0;
      },
    }),
  });
  const out = redact(
    createRecord({ message: "TOK_ABCD1234 for ada@example.com and tok_zzzz9999" }),
  );
  assert.equal(out.message, "*** for *** and ***");
  assert.deepEqual(Object.fromEntries(counts), { order_token: 2, email: 1 });
});

Deno.test("redact options: unknown patterns get a did-you-mean, bad regexes and paths are errors", () => {
  const parse = (options: unknown) => {
    const issues: { message: string; hint?: string }[] = [];
    redact.options.parse(options, ["processors", "scrub"], { issues: issues as never });
    return issues;
  };
  const [unknown] = parse({ patterns: ["creditcard"] });
  assert.match(unknown!.message, /Unknown pattern "creditcard"; expected one of credit_card/);
  assert.equal(unknown!.hint, 'did you mean "credit_card"?');
  assert.match(
    parse({ patterns: [{ name: "x", regex: "(" }] })[0]!.message,
    /Invalid regular expression/,
  );
  assert.match(parse({ fields: ["a..b"] })[0]!.message, /Expected a field path/);
  assert.equal(
    parse({ fields: ["a.*.b"], patterns: ["email", { name: "x", regex: "y" }] }).length,
    0,
  );
});

Deno.test("redact processor: nothing to redact, or hash mode without a secret, refuses to start", async () => {
  await assert.rejects(
    () =>
      configure({
        sources: { app: { type: "logger" } },
        processors: { scrub: { type: "redact", inputs: ["app"] } },
        sinks: { out: { type: "memory", inputs: ["scrub"] } },
      }),
    /Cannot create processor "scrub": it has neither fields nor patterns/,
  );
  await assert.rejects(
    () =>
      configure({
        sources: { app: { type: "logger" } },
        processors: { scrub: { type: "redact", inputs: ["app"], fields: ["x"], mode: "hash" } },
        sinks: { out: { type: "memory", inputs: ["scrub"] } },
      }),
    /mode: hash needs a secret: set hash_key_env/,
  );
  await assert.rejects(
    () =>
      configure({
        sources: { app: { type: "logger" } },
        processors: { scrub: { type: "redact", inputs: ["app"], patterns: ["emial"] } },
        sinks: { out: { type: "memory", inputs: ["scrub"] } },
      }),
    (error: unknown) => error instanceof ConfigError && /did you mean "email"/.test(error.message),
  );
  await shutdown();
});

// ---------------------------------------------------------------------------------------
// Property tests

/** Text that cannot form a secret: no digits, no @, no b (bearer), no upper case, no ://. */
const clean = fc.string({
  unit: fc.constantFrom(..."acdefghijklmnopqrstuvwxyz ,.!-_"),
  maxLength: 12,
});

interface Secret {
  /** What is written into the record. */
  text: string;
  /** What must not appear in any output. */
  secret: string;
}

const digits = (n: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n });
const base64url = (min: number, max: number) =>
  fc.stringMatching(new RegExp(`^[A-Za-z0-9_-]{${min},${max}}$`));

const cardArb: fc.Arbitrary<Secret> = fc.tuple(digits(15), fc.constantFrom(" ", "-", "")).map(
  ([body, sep]) => {
    const partial = body.join("");
    let check = 0;
    while (!luhnValid(partial + check)) check++;
    const number = partial + check;
    const text = number.match(/.{4}/g)!.join(sep);
    return { text, secret: text };
  },
);
const ssnArb: fc.Arbitrary<Secret> = fc.tuple(
  fc.integer({ min: 1, max: 899 }).filter((n) => n !== 666),
  fc.integer({ min: 1, max: 99 }),
  fc.integer({ min: 1, max: 9999 }),
).map(([a, g, s]) => {
  const text = `${String(a).padStart(3, "0")}-${String(g).padStart(2, "0")}-${
    String(s).padStart(4, "0")
  }`;
  return { text, secret: text };
});
const emailArb: fc.Arbitrary<Secret> = fc.tuple(
  fc.stringMatching(/^[a-z0-9]{1,10}(\.[a-z0-9]{1,5})?$/),
  fc.stringMatching(/^[a-z]{1,10}$/),
  fc.stringMatching(/^[a-z]{2,6}$/),
).map(([local, domain, tld]) => {
  const text = `${local}@${domain}.${tld}`;
  return { text, secret: text };
});
const jwtArb: fc.Arbitrary<Secret> = fc.tuple(base64url(8, 20), base64url(8, 30), base64url(10, 40))
  .map(([h, p, s]) => {
    const text = `eyJ${h}.eyJ${p}.${s}`;
    return { text, secret: text };
  });
const bearerArb: fc.Arbitrary<Secret> = fc.stringMatching(/^[A-Za-z0-9._~+/-]{16,40}$/)
  .map((token) => ({ text: `Bearer ${token}`, secret: token }));
const awsArb: fc.Arbitrary<Secret> = fc.stringMatching(/^[A-Z0-9]{16}$/)
  .map((rest) => ({ text: `AKIA${rest}`, secret: `AKIA${rest}` }));
const urlArb: fc.Arbitrary<Secret> = fc.tuple(
  fc.stringMatching(/^[A-Za-z0-9]{8,16}$/),
  fc.constantFrom("db.example/app", "db:5432/app", "localhost"),
).map(([pw, host]) => ({ text: `postgres://svc:${pw}@${host}`, secret: `:${pw}@` }));
const textSecret = fc.oneof(cardArb, ssnArb, emailArb, jwtArb, bearerArb, awsArb, urlArb);
/** A value stored under a sensitive field name: any shape, it must vanish whole. */
const fieldSecret: fc.Arbitrary<{ value: unknown; secret: string }> = fc.stringMatching(
  /^[a-z]{6}$/,
).chain((core) => {
  const secret = `FIELDSECRET${core}`;
  return fc.constantFrom<unknown>(secret, { inner: secret }, [secret]).map((value) => ({
    value,
    secret,
  }));
});

interface Planted {
  value: unknown;
  secrets: string[];
}

const KEYS = ["a", "user", "items", "meta", "data", "list", "info"];

const planted = fc.letrec<{ node: Planted; object: Planted; array: Planted; leaf: Planted }>((
  tie,
) => ({
  leaf: fc.oneof(
    clean.map((value) => ({ value, secrets: [] })),
    fc.integer({ min: -1_000_000, max: 1_000_000 }).map((value) => ({ value, secrets: [] })),
    fc.constantFrom(true, null).map((value) => ({ value, secrets: [] })),
    fc.tuple(clean, textSecret, clean).map(([a, s, b]) => ({
      value: `${a} ${s.text} ${b}`,
      secrets: [s.secret],
    })),
  ),
  node: fc.oneof({ depthSize: "small" }, tie("leaf"), tie("object"), tie("array")),
  object: fc.tuple(
    fc.uniqueArray(fc.tuple(fc.constantFrom(...KEYS), tie("node")), {
      maxLength: 4,
      selector: ([key]) => key,
    }),
    fc.option(fc.tuple(fc.constantFrom("password", "PASSWORD", "Password"), fieldSecret)),
  ).map(([entries, sensitive]) => {
    const value: Record<string, unknown> = {};
    const secrets: string[] = [];
    for (const [key, node] of entries) {
      value[key] = node.value;
      secrets.push(...node.secrets);
    }
    if (sensitive) {
      value[sensitive[0]] = sensitive[1].value;
      secrets.push(sensitive[1].secret);
    }
    return { value, secrets };
  }),
  array: fc.array(tie("node"), { maxLength: 4 }).map((nodes) => ({
    value: nodes.map((n) => n.value),
    secrets: nodes.flatMap((n) => n.secrets),
  })),
}));

/** A record with secrets planted in the message, fields at any depth, and the error. */
const recordWithSecrets = fc.record({
  message: fc.tuple(clean, fc.option(textSecret), clean),
  fields: planted.object,
  topLevel: fc.record({
    card: fc.option(fieldSecret),
    headers: fc.option(fieldSecret),
    nested: fc.option(fieldSecret),
  }),
  error: fc.option(fc.tuple(textSecret, textSecret, textSecret, clean)),
}).map(({ message, fields, topLevel, error }) => {
  const secrets = [...fields.secrets];
  const [before, inMessage, after] = message;
  if (inMessage) secrets.push(inMessage.secret);
  const data = { ...(fields.value as Record<string, unknown>) };
  if (topLevel.card) {
    data.card = { number: topLevel.card.value, brand: "visa" };
    secrets.push(topLevel.card.secret);
  }
  if (topLevel.headers) {
    data.headers = { Authorization: topLevel.headers.value };
    secrets.push(topLevel.headers.secret);
  }
  if (topLevel.nested) {
    data.session = { token: topLevel.nested.value };
    secrets.push(topLevel.nested.secret);
  }
  let err: SerializedError | undefined;
  if (error) {
    const [inMsg, inStack, inCause, text] = error;
    err = {
      name: "Error",
      message: `failed ${inMsg.text} ${text}`,
      stack: `Error: failed\n    at ${inStack.text} (app.ts:1:1)`,
      cause: { name: "TypeError", message: `cause ${inCause.text}` },
    };
    secrets.push(inMsg.secret, inStack.secret, inCause.secret);
  }
  const record = createRecord({
    message: inMessage ? `${before} ${inMessage.text} ${after}` : before + after,
    fields: data,
    ...(err ? { error: err } : {}),
  });
  return { record, secrets };
});

Deno.test("redact property: no planted secret survives into json, text or logfmt output", () => {
  const redact = redactor();
  const formatters = [
    makeFormatter("json"),
    makeFormatter("text"),
    makeFormatter("logfmt"),
  ];
  fc.assert(
    fc.property(recordWithSecrets, ({ record, secrets }) => {
      const before = structuredClone(record);
      const out = redact(record);
      assert.deepEqual(record, before, "the input record is not mutated");
      for (const format of formatters) {
        const text = asText(format(out));
        for (const secret of secrets) {
          assert.ok(!text.includes(secret), `secret ${JSON.stringify(secret)} survived in ${text}`);
        }
      }
    }),
    { numRuns: 1000 },
  );
});

Deno.test("redact property: hash and remove modes leak nothing either", () => {
  const formats = [makeFormatter("json"), makeFormatter("logfmt")];
  for (const mode of ["hash", "remove"] as const) {
    const redact = redactor({ mode, secret: HASH_SECRET });
    fc.assert(
      fc.property(recordWithSecrets, ({ record, secrets }) => {
        const out = redact(record);
        for (const format of formats) {
          const text = asText(format(out));
          for (const secret of secrets) {
            assert.ok(!text.includes(secret), `${mode}: ${secret} in ${text}`);
          }
        }
      }),
      { numRuns: 300 },
    );
  }
});

const cleanTree = fc.letrec<{ node: unknown; object: Record<string, unknown> }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small" },
    clean,
    fc.integer({ min: -1_000_000, max: 1_000_000 }),
    fc.double({ noNaN: true, min: -1e6, max: 1e6 }),
    fc.boolean(),
    fc.constant(null),
    tie("object"),
    fc.array(tie("node"), { maxLength: 4 }),
  ),
  object: fc.dictionary(fc.constantFrom(...KEYS), tie("node"), {
    maxKeys: 5,
    noNullPrototype: true,
  }),
}));

Deno.test("redact property: records without secrets pass through unchanged, as the same object", () => {
  const redact = redactor();
  fc.assert(
    fc.property(clean, cleanTree.object, fc.option(clean), (message, fields, errorText) => {
      const record = createRecord({
        message,
        fields,
        ...(errorText !== null
          ? { error: { name: "Error", message: errorText, stack: `Error: ${errorText}\n    at x` } }
          : {}),
      });
      const copy = structuredClone(record);
      assert.equal(redact(record), record);
      assert.deepEqual(record, copy);
    }),
    { numRuns: 1000 },
  );
});

// ---------------------------------------------------------------------------------------
// The seed's slide 10 record, in every formatter

const SEED_CARD = "1234-5678-9012-3456"; // fails the Luhn check
const SEED_SSN = "123-45-6789";
const VALID_CARD = "4111 1111 1111 1111";

function seedRecord(): LogRecord {
  return createRecord({
    logger: "secure_logger",
    message: `User payment processed, paid with ${VALID_CARD}`,
    fields: { user_id: "12345", credit_card: SEED_CARD, ssn: SEED_SSN },
  });
}

Deno.test("seed record: its card number fails Luhn, so patterns alone leave it and field names must catch it", () => {
  assert.ok(!luhnValid(SEED_CARD.replaceAll("-", "")));
  const patternsOnly = redactor({ fields: [], patterns: ["credit_card", "us_ssn"] })(seedRecord());
  assert.equal(
    patternsOnly.fields.credit_card,
    SEED_CARD,
    "an order-number-like value survives the pattern",
  );
  assert.equal(patternsOnly.fields.ssn, "[REDACTED]");
  assert.equal(patternsOnly.message, "User payment processed, paid with [REDACTED]");
  const withFields = redactor({
    fields: ["credit_card", "ssn"],
    patterns: ["credit_card", "us_ssn"],
  })(
    seedRecord(),
  );
  assert.deepEqual(withFields.fields, {
    user_id: "12345",
    credit_card: "[REDACTED]",
    ssn: "[REDACTED]",
  });
});

Deno.test("seed record: masked in every built-in formatter, the encrypted one included", () => {
  const redacted = redactor({
    fields: ["credit_card", "ssn"],
    patterns: ["credit_card", "us_ssn"],
  })(
    seedRecord(),
  );
  const key = generateKey();
  const keyring = new Keyring([decodeKey(key, "key")]);
  const formatters = builtins.filter((p) => p.kind === "formatter");
  assert.ok(formatters.length >= 4);
  const checked: string[] = [];
  for (const definition of formatters) {
    const variants: Record<string, unknown>[] = definition.type === "encrypted"
      ? [
        { keys_env: "SEED_TEST_KEYS" },
        { keys_env: "SEED_TEST_KEYS", algorithm: "aes-256-gcm", inner: "logfmt" },
      ]
      : [{}];
    for (const options of variants) {
      const format = makeFormatter(definition.type, options, { SEED_TEST_KEYS: key });
      let text = asText(format(redacted));
      if (definition.type === "encrypted") text = new TextDecoder().decode(keyring.decrypt(text));
      for (const secret of [SEED_CARD, SEED_SSN, VALID_CARD, "4111111111111111"]) {
        assert.ok(!text.includes(secret), `${definition.type}: ${secret} in ${text}`);
      }
      assert.ok(text.includes("User payment processed"), `${definition.type}: ${text}`);
      checked.push(definition.type);
    }
  }
  for (const type of ["json", "text", "logfmt", "encrypted"]) assert.ok(checked.includes(type));
});

Deno.test("seed record through a real pipeline: logger, redact processor, json/text/logfmt/encrypted files", async () => {
  const dir = await Deno.makeTempDir();
  const key = generateKey();
  Deno.env.set("SEED_TEST_KEYS", key);
  try {
    const pipeline = await configure({
      sources: { app: { type: "logger" } },
      processors: {
        scrub: {
          type: "redact",
          inputs: ["app"],
          fields: ["credit_card", "ssn", "*.token"],
          patterns: ["credit_card", "us_ssn", "email"],
        },
      },
      sinks: {
        json: { type: "file", path: `${dir}/app.json`, inputs: ["scrub"], format: "json" },
        text: { type: "file", path: `${dir}/app.txt`, inputs: ["scrub"], format: "text" },
        logfmt: { type: "file", path: `${dir}/app.logfmt`, inputs: ["scrub"], format: "logfmt" },
        secure: {
          type: "file",
          path: `${dir}/secure.log`,
          inputs: ["scrub"],
          format: { type: "encrypted", keys_env: "SEED_TEST_KEYS" },
        },
      },
    });
    const log = getLogger("secure_logger");
    log.info(`User payment processed, paid with ${VALID_CARD}`, {
      user_id: "12345",
      credit_card: SEED_CARD,
      ssn: SEED_SSN,
    });
    log.error("refund failed", {
      error: new Error(`card ${VALID_CARD} declined for ada@example.com`),
    });
    await pipeline.flush();
    const metrics = pipeline.metrics.render();
    await shutdown();
    const keyring = new Keyring([decodeKey(key, "key")]);
    const secure = (await Deno.readTextFile(`${dir}/secure.log`)).trimEnd().split("\n")
      .map((line) => new TextDecoder().decode(keyring.decrypt(line))).join("\n");
    for (
      const [name, text] of [
        ["json", await Deno.readTextFile(`${dir}/app.json`)],
        ["text", await Deno.readTextFile(`${dir}/app.txt`)],
        ["logfmt", await Deno.readTextFile(`${dir}/app.logfmt`)],
        ["encrypted", secure],
      ]
    ) {
      for (const secret of [SEED_CARD, SEED_SSN, VALID_CARD, "ada@example.com"]) {
        assert.ok(!text!.includes(secret), `${name}: ${secret} in ${text}`);
      }
      assert.ok(text!.includes("User payment processed"), name);
      assert.ok(text!.includes("12345"), `${name}: the user id is not a secret`);
    }
    const count = (kind: string, rule: string) =>
      Number(
        new RegExp(
          `sluice_redactions_total\\{component="scrub",kind="${kind}",rule="${rule}"\\} (\\d+)`,
        )
          .exec(metrics)?.[1],
      );
    assert.equal(count("field", "credit_card"), 1);
    assert.equal(count("field", "ssn"), 1);
    // The valid card in the message, the error's message and its stack; the email in both.
    assert.equal(count("pattern", "credit_card"), 3);
    assert.equal(count("pattern", "email"), 2);
  } finally {
    Deno.env.delete("SEED_TEST_KEYS");
    await Deno.remove(dir, { recursive: true });
  }
});
