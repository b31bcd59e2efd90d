// Hostile and broken configs through a real `sluice check` process: each is an error at
// file:line:col, where `check` used to say "ok" (and `run` then idled or failed later).
import assert from "node:assert/strict";
import { runCli } from "../helpers/sluice_process.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_check_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function check(
  file: string,
  env: Record<string, string> = {},
): Promise<{ code: number; lines: string[] }> {
  const result = await runCli(["check", "--config", file], { env });
  assert.equal(result.stdout, "", "nothing on stdout");
  assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack trace");
  const lines = result.stderr.trim().split("\n");
  assert.match(lines.pop() ?? "", /^\d+ problems? found$/);
  return { code: result.code, lines };
}

Deno.test("sluice check: an empty or comment-only config is an error at line 1", async () => {
  await withTempDir(async (dir) => {
    for (const text of ["", "\n\n", "# sources: later\n# sinks: later\n"]) {
      const file = `${dir}/empty.yaml`;
      await Deno.writeTextFile(file, text);
      const { code, lines } = await check(file);
      assert.equal(code, 2, JSON.stringify(text));
      assert.match(lines[0]!, new RegExp(`^${file}:1:1: The config is empty`));
    }
  });
});

Deno.test("sluice check: invalid UTF-8 is an error at the line and column of the bad byte", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/latin1.yaml`;
    const head = new TextEncoder().encode(
      "sources:\n  app: { type: logger }\nsinks:\n  out: { type: file, path: caf",
    );
    await Deno.writeFile(
      file,
      new Uint8Array([...head, 0xe9, ...new TextEncoder().encode(".log }\n")]),
    );
    const { code, lines } = await check(file);
    assert.equal(code, 2);
    assert.deepEqual(lines, [
      `${file}:4:31: Invalid UTF-8 in the config: byte 0xe9 at offset ${head.length} (save the file as UTF-8)`,
    ]);
  });
});

Deno.test("sluice check: a sink with inputs: [] is an error, not every source", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/empty_inputs.yaml`;
    await Deno.writeTextFile(
      file,
      "sources:\n  app: { type: logger }\nsinks:\n  out: { type: console, inputs: [] }\n",
    );
    const { code, lines } = await check(file);
    assert.equal(code, 2);
    assert.equal(
      lines[0],
      `${file}:4:33: sinks.out.inputs: Sink "out" has an empty inputs list, so it would receive no records (list what it reads, such as \`inputs: [app]\`, or omit inputs to read every source)`,
    );
  });
});

Deno.test("sluice check: a plugin with a syntax error says so, with its position", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/broken.ts`,
      'export default {\n  kind: "sink",\n  type: x y,\n};\n',
    );
    const file = `${dir}/plugin.yaml`;
    await Deno.writeTextFile(file, "sinks:\n  out: { module: ./broken.ts }\n");
    const { code, lines } = await check(file);
    assert.equal(code, 2);
    assert.match(
      lines[0]!,
      new RegExp(
        `^${file}:2:18: sinks\\.out\\.module: Cannot load plugin module "\\./broken\\.ts": syntax error at ${dir}/broken\\.ts:3:11: Expected ',', got 'y'`,
      ),
    );
  });
});

Deno.test("sluice check: a value from ${VAR} is named, never echoed", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/secret.yaml`;
    await Deno.writeTextFile(
      file,
      [
        'server: { listen: "${LISTEN}", max_connections: "${SECRET}" }',
        "sources:",
        "  app: { type: logger }",
        "sinks:",
        '  out: { type: file, path: app.log, format: "${SECRET}", level: "x-${SECRET}" }',
        "",
      ].join("\n"),
    );
    const secret = "hunter2-SECRETVALUE";
    const result = await runCli(["check", "--config", file], {
      env: { SECRET: secret, LISTEN: secret },
    });
    assert.equal(result.code, 2);
    assert.ok(!result.stderr.includes("hunter2"), result.stderr);
    const lines = result.stderr.trim().split("\n");
    assert.equal(lines.length, 5, result.stderr);
    assert.match(
      lines[0]!,
      /server\.listen: Expected host:port .*, got the value of \$\{LISTEN\}$/,
    );
    assert.match(lines[1]!, /server\.max_connections: .*got the value of \$\{SECRET\}$/);
    assert.match(lines[2]!, /sinks\.out\.format: Unknown formatter type the value of \$\{SECRET\}/);
    assert.match(lines[3]!, /sinks\.out\.level: .*got a value made from \$\{SECRET\}$/);
  });
});

Deno.test("sluice check: a short token or one with whitespace is an error at its key, never shown", async () => {
  await withTempDir(async (dir) => {
    const cases: [string, Record<string, string>, RegExp][] = [
      ["token: x", {}, /:1:\d+: server\.token: Expected at least 16 characters, got 1$/],
      ['token: "${SLUICE_TOKEN}"', { SLUICE_TOKEN: "  " }, /server\.token: .*got 2$/],
      [
        'token: "${SLUICE_TOKEN}"',
        { SLUICE_TOKEN: "hunter2-SECRET hunter2-SECRET" },
        /:1:\d+: server\.token: The token contains whitespace, which a bearer token cannot carry/,
      ],
      [
        'token: "hunter2-SECRET\\thunter2-SECRET"',
        {},
        /server\.token: The token contains whitespace/,
      ],
    ];
    for (const [token, env, expected] of cases) {
      const file = `${dir}/token.yaml`;
      await Deno.writeTextFile(
        file,
        `server: { listen: 127.0.0.1:0, ${token} }\nsources:\n  in: { type: http }\nsinks:\n  out: { type: console }\n`,
      );
      const { code, lines } = await check(file, env);
      assert.equal(code, 2, token);
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(lines[0]!, expected);
      assert.doesNotMatch(lines[0]!, /hunter2/);
    }
  });
});

Deno.test("sluice check: two listeners on one port, two sinks on one file and a directory as a file are errors at their keys", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/logs`);
    const file = `${dir}/clash.yaml`;
    await Deno.writeTextFile(
      file,
      [
        "server: { listen: 127.0.0.1:9655 }",
        "sources:",
        "  a: { type: tcp, address: 127.0.0.1:9650 }",
        "  b: { type: tcp, address: 0.0.0.0:9650 }",
        "  c: { type: syslog, address: 127.0.0.1:9650, protocol: udp }",
        "  d: { type: tcp, address: 127.0.0.1:9655 }",
        "sinks:",
        "  one: { type: file, path: app.log }",
        `  two: { type: rotating_file, path: ${dir}/app.log }`,
        "  dir: { type: file, path: logs }",
        "",
      ].join("\n"),
    );
    const { code, lines } = await check(file);
    assert.equal(code, 2);
    assert.deepEqual(lines, [
      `${file}:4:28: sources.b.address: Source "b" listens on tcp port 9650, as source "a" does; only one of them could bind it (give each listener its own port)`,
      `${file}:6:28: sources.d.address: Source "d" listens on tcp port 9655, as the server (server.listen) does; only one of them could bind it (give each listener its own port)`,
      `${file}:9:37: sinks.two.path: Sink "two" writes the file of sink "one"; two sinks in one file interleave and rotate each other's records (give each sink its own path, or send both inputs to one sink)`,
      `${file}:10:28: sinks.dir.path: Sink "dir" writes to ${dir}/logs, which is a directory (name a file, such as app.log inside it)`,
    ]);
  });
});

Deno.test("sluice check: a TLS file that does not exist is an error at its key; one that exists is not", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/tls.yaml`;
    await Deno.writeTextFile(`${dir}/cert.pem`, "-----BEGIN CERTIFICATE-----\n");
    await Deno.writeTextFile(
      file,
      [
        "sources:",
        "  secure:",
        "    type: tcp",
        "    address: 127.0.0.1:0",
        "    tls: { cert: cert.pem, key: missing-key.pem }",
        "sinks:",
        "  peer:",
        "    type: tcp",
        "    address: 127.0.0.1:6514",
        "    inputs: [secure]",
        "    tls: { ca: missing-ca.pem }",
        "",
      ].join("\n"),
    );
    const { code, lines } = await check(file);
    assert.equal(code, 2);
    assert.deepEqual(lines, [
      `${file}:5:33: sources.secure.tls.key: Source "secure" names tls.key "missing-key.pem", which does not exist (a relative path is read from ${dir})`,
      `${file}:11:16: sinks.peer.tls.ca: Sink "peer" names tls.ca "missing-ca.pem", which does not exist (a relative path is read from ${dir})`,
    ]);
    // sluice run says the same before it starts anything (before: "Cannot create source").
    const run = await runCli(["run", "--config", file]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, new RegExp(`^${file}:5:33: sources\\.secure\\.tls\\.key: `));
  });
});

Deno.test("sluice check: a key or credentials file that does not exist is an error at its key, for check and run alike", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/keys.yaml`;
    await Deno.writeTextFile(`${dir}/chain.key`, "a".repeat(44) + "\n");
    await Deno.writeTextFile(
      file,
      [
        "sources:",
        "  app: { type: logger }",
        "processors:",
        "  scrub: { type: redact, inputs: [app], mode: hash, hash_key_file: h.key }",
        "sinks:",
        "  a: { type: file, inputs: [scrub], path: a.log, chain: { key_file: chain.key } }",
        "  b: { type: file, inputs: [app], path: b.log, chain: { key_file: c.key } }",
        "  e: { type: file, inputs: [app], path: e.log, format: { type: encrypted, key_file: e.key } }",
        "  n:",
        "    type: nats",
        "    inputs: [app]",
        "    servers: [nats://127.0.0.1:4299]",
        "    stream: LOGS",
        "    subject: logs.x",
        "    auth: { creds_file: n.creds }",
        "",
      ].join("\n"),
    );
    const hint = `(a relative path is read from ${dir})`;
    const { code, lines } = await check(file);
    assert.equal(code, 2);
    assert.deepEqual(lines, [
      `${file}:4:68: processors.scrub.hash_key_file: Processor "scrub" names hash_key_file "h.key", which does not exist ${hint}`,
      `${file}:7:67: sinks.b.chain.key_file: Sink "b" names chain.key_file "c.key", which does not exist ${hint}`,
      `${file}:8:85: sinks.e.format.key_file: Sink "e" names format.key_file "e.key", which does not exist ${hint}`,
      `${file}:15:25: sinks.n.auth.creds_file: Sink "n" names auth.creds_file "n.creds", which does not exist ${hint}`,
    ]);
    // Before, check said "ok" and run failed on the first one as its sink opened, with no position.
    const run = await runCli(["run", "--config", file]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, new RegExp(`^${file}:4:68: processors\\.scrub\\.hash_key_file: `));
  });
});

Deno.test("sluice check: keys_env naming a variable that holds no valid keys is an error naming the variable, not the value", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/keys.yaml`;
    await Deno.writeTextFile(
      file,
      [
        "sources:",
        "  app: { type: logger }",
        "sinks:",
        "  out:",
        "    type: file",
        `    path: ${dir}/secure.log`,
        "    format: { type: encrypted, keys_env: CHECK_TEST_KEYS }",
      ].join("\n") + "\n",
    );
    const secret = "hunter2-SECRETVALUE";
    const { code, lines } = await check(file, { CHECK_TEST_KEYS: secret });
    assert.equal(code, 2);
    assert.equal(
      lines[0],
      `${file}:7:42: sinks.out.format.keys_env: The key in environment variable "CHECK_TEST_KEYS" decodes to 14 bytes; expected 32 bytes (44 characters of URL-safe base64, such as the output of "sluice keygen")`,
    );
    assert.ok(!lines.join("\n").includes(secret) && !lines.join("\n").includes("hunter2"));
    // A second key that is not base64 at all: named by its place in the list.
    const bad = await check(file, {
      CHECK_TEST_KEYS: "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=,not*base64",
    });
    assert.match(
      bad.lines[0]!,
      /sinks\.out\.format\.keys_env: Key 2 of 2 in environment variable "CHECK_TEST_KEYS" is not URL-safe base64 \(10 characters\)/,
    );
    assert.ok(!bad.lines.join("\n").includes("not*base64"));
  });
});
