import assert from "node:assert/strict";
import {
  decodeKey,
  generateKey,
  KeyError,
  loadKeys,
  loadSecret,
  readKeyText,
  splitKeys,
} from "../../src/crypto/keys.ts";

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof KeyError, `expected a KeyError, got ${error}`);
    return error.message;
  }
  assert.fail("expected a KeyError");
}

Deno.test("keys written in the config are refused with the reason and the alternatives", () => {
  const key = generateKey();
  const message = messageOf(() => loadKeys({ keys: key }, { baseDir: "." }));
  assert.match(message, /written into the config/);
  assert.match(message, /\$\{VAR\}/);
  assert.match(message, /keys_env: VAR_NAME/);
  assert.match(message, /key_file: PATH/);
  assert.match(message, /allow_inline_key: true/);
  assert.ok(!message.includes(key));
  assert.equal(loadKeys({ keys: key, allowInline: true }, { baseDir: "." }).length, 1);
});

Deno.test("keys come from the environment variable keys_env names, comma-separated, in order", () => {
  const [a, b] = [generateKey(), generateKey()];
  const keys = loadKeys({ keysEnv: "LOG_KEYS" }, {
    baseDir: ".",
    getEnv: (name) => (name === "LOG_KEYS" ? ` ${a} , ${b} ` : undefined),
  });
  assert.deepEqual(keys, [decodeKey(a, "a"), decodeKey(b, "b")]);
  assert.match(
    messageOf(() => loadKeys({ keysEnv: "MISSING" }, { baseDir: ".", getEnv: () => undefined })),
    /Environment variable "MISSING" is not set or is empty/,
  );
});

Deno.test("a keys_env that holds a key instead of a name is refused without echoing it", () => {
  const key = generateKey();
  const message = messageOf(() => loadKeys({ keysEnv: key }, { baseDir: "." }));
  assert.match(message, /must name an environment variable/);
  assert.ok(!message.includes(key));
});

Deno.test("key files hold one key per line with comments, and a group-readable file is warned about", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const [a, b] = [generateKey(), generateKey()];
    Deno.writeTextFileSync(`${dir}/keys`, `# current\n${a}\n${b} # retiring\n`, { mode: 0o644 });
    Deno.chmodSync(`${dir}/keys`, 0o644);
    const warnings: string[] = [];
    const keys = loadKeys({ keyFile: "keys" }, { baseDir: dir, warn: (m) => warnings.push(m) });
    assert.equal(keys.length, 2);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /readable by group or others \(mode 644\); restrict it with chmod 600/,
    );
    Deno.chmodSync(`${dir}/keys`, 0o600);
    warnings.length = 0;
    loadKeys({ keyFile: "keys" }, { baseDir: dir, warn: (m) => warnings.push(m) });
    assert.equal(warnings.length, 0);
    assert.match(
      messageOf(() => loadKeys({ keyFile: "nope" }, { baseDir: dir })),
      /Cannot read key file ".*nope"/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a malformed key is named by position and length, never shown", () => {
  const good = generateKey();
  const bad = good.slice(0, 30);
  const message = messageOf(() =>
    loadKeys({ keysEnv: "K" }, { baseDir: ".", getEnv: () => `${good},${bad}` })
  );
  assert.match(
    message,
    /Key 2 of 2 in environment variable "K" decodes to 22 bytes; expected 32 bytes/,
  );
  assert.ok(!message.includes(bad));
  assert.match(
    messageOf(() => loadKeys({ keysEnv: "K" }, { baseDir: ".", getEnv: () => "not*base64" })),
    /is not URL-safe base64 \(10 characters\)/,
  );
});

Deno.test("exactly one key source is required", () => {
  assert.match(messageOf(() => readKeyText({}, { baseDir: "." })), /No key given/);
  assert.match(
    messageOf(() => readKeyText({ keysEnv: "A", keyFile: "b" }, { baseDir: "." })),
    /Give only one of keys_env, key_file/,
  );
});

Deno.test("keygen keys are 44 characters that decode to 32 bytes, all different", () => {
  const keys = new Set(Array.from({ length: 100 }, generateKey));
  assert.equal(keys.size, 100);
  for (const key of keys) {
    assert.equal(key.length, 44);
    assert.equal(decodeKey(key, "key").length, 32);
  }
  assert.deepEqual(splitKeys("a,b\nc # d\n#e\n"), ["a", "b", "c"]);
});

Deno.test("HMAC secrets are the trimmed text's bytes and must be at least 16 bytes", () => {
  assert.equal(
    loadSecret({ keysEnv: "S" }, { baseDir: ".", getEnv: () => " 0123456789abcdef\n" }).length,
    16,
  );
  assert.match(
    messageOf(() => loadSecret({ keysEnv: "S" }, { baseDir: ".", getEnv: () => "short" })),
    /is 5 bytes long; use at least 16/,
  );
});
