import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import denoJson from "../../deno.json" with { type: "json" };
import { runCli, startSluice } from "../helpers/sluice_process.ts";

const FAILING_SINK = fileURLToPath(new URL("../helpers/failing_sink.ts", import.meta.url));
const REPO = fileURLToPath(new URL("../../", import.meta.url));

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_cli_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function post(url: string, body: string): Promise<Response> {
  return await fetch(url, {
    method: "POST",
    body,
    headers: { "content-type": "application/x-ndjson" },
  });
}

Deno.test("sluice check prints ok and exits 0 for a valid config", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/sluice.yaml`,
      "sources:\n  app: { type: logger }\nsinks:\n  out: { type: file, path: logs/app.log }\n",
    );
    const result = await runCli(["check", "--config", `${dir}/sluice.yaml`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "ok");
    assert.equal(result.stderr, "");
    // check opens nothing: the sink's directory was not created.
    await assert.rejects(Deno.stat(`${dir}/logs`), Deno.errors.NotFound);
  });
});

Deno.test("sluice check exits 2 with every problem at file:line:col and no stack trace", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/bad.yaml`;
    await Deno.writeTextFile(
      file,
      [
        "sources:",
        "  app: { type: logger }",
        "sinks:",
        "  out: { type: fil, path: a.log }",
        "  con: { type: console, inputs: [ap], levle: info }",
        "",
      ].join("\n"),
    );
    const result = await runCli(["check", "--config", file]);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, "");
    assert.deepEqual(result.stderr.trim().split("\n"), [
      `${file}:4:16: sinks.out.type: Unknown sink type "fil" (did you mean "file"?)`,
      `${file}:5:34: sinks.con.inputs[0]: Unknown input "ap" (did you mean "app"?)`,
      `${file}:5:39: sinks.con.levle: Unknown key "levle" (did you mean "level"?)`,
      "3 problems found",
    ]);
    assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack trace");
  });
});

Deno.test("sluice check exits 2 with one message for a missing file or invalid YAML", async () => {
  await withTempDir(async (dir) => {
    const missing = await runCli(["check", "--config", `${dir}/nope.yaml`]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.yaml: Cannot read config: file not found/);
    await Deno.writeTextFile(`${dir}/broken.yaml`, "sinks:\n  out: { type: memory\n");
    const broken = await runCli(["check", "--config", `${dir}/broken.yaml`]);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /broken\.yaml:\d+:\d+: Invalid YAML/);
    assert.doesNotMatch(missing.stderr + broken.stderr, /^\s+at /m);
  });
});

Deno.test("sluice <command> --help and a bad flag show the command's details", async () => {
  const decrypt = await runCli(["decrypt", "--help"]);
  assert.equal(decrypt.code, 0);
  assert.match(
    decrypt.stdout,
    /Usage: sluice decrypt \[--keys-env VAR \| --key-file PATH\] FILE\.\.\./,
  );
  assert.match(decrypt.stdout, /--key-file PATH +file holding the keys instead/);
  const keygen = await runCli(["keygen", "--bogus"]);
  assert.equal(keygen.code, 2);
  assert.match(keygen.stderr, /^sluice keygen: .*--bogus/);
  assert.match(keygen.stderr, /--count N +how many keys/);
  const verify = await runCli(["verify"]);
  assert.equal(verify.code, 2);
  assert.match(verify.stderr, /^sluice verify: no file given/);
  assert.match(verify.stderr, /--key-env VAR +environment variable holding the chain secret/);
});

Deno.test("sluice --version, --help, a bad flag and an unknown command", async () => {
  const version = await runCli(["--version"]);
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), `sluice ${denoJson.version}`);
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  for (const name of ["run", "check", "schema", "permissions"]) {
    assert.match(help.stdout, new RegExp(`^  ${name} `, "m"));
  }
  const flag = await runCli(["check", "--confg", "x.yaml"]);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /^sluice check: .*--confg/);
  assert.match(flag.stderr, /Usage: sluice check --config FILE/);
  const missing = await runCli(["run"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /Missing --config FILE/);
  const unknown = await runCli(["chek"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "chek" \(did you mean "check"\?\)/);
});

Deno.test("sluice run serves health, ready, metrics and ingest; posted records are in the file after SIGTERM", async () => {
  await withTempDir(async (dir) => {
    const config = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      config,
      [
        "server: { listen: 127.0.0.1:0 }",
        "sources:",
        "  ingest: { type: http, path: /ingest }",
        "sinks:",
        "  file: { type: file, path: logs/app.log, format: json }",
        "  errors: { type: file, path: logs/errors.log, level: error, format: json }",
        "",
      ].join("\n"),
    );
    const sluice = await startSluice(config);
    let stopped = false;
    try {
      const health = await fetch(`${sluice.url}/health`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: "ok" });
      const ready = await fetch(`${sluice.url}/ready`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: "ready" });

      const lines = Array.from(
        { length: 50 },
        (_, i) =>
          JSON.stringify({ level: i % 10 === 0 ? "error" : "info", message: `m${i}`, id: i }),
      );
      const ingest = await post(`${sluice.url}/ingest`, lines.join("\n") + "\n");
      assert.equal(ingest.status, 200);
      assert.deepEqual(await ingest.json(), { accepted: 50 });
      const bad = await post(`${sluice.url}/ingest`, '{"message":"fine"}\nnot json\n');
      assert.equal(bad.status, 400);
      await bad.body?.cancel();

      const metrics = await fetch(`${sluice.url}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const text = await metrics.text();
      assert.match(text, /^sluice_records_in_total\{component="ingest",kind="source"\} 51$/m);
      assert.match(
        text,
        /^sluice_records_rejected_total\{component="ingest",reason="[a-z_]+"\} 1$/m,
      );
      assert.match(text, /^sluice_http_server_requests_total\{route="\/ingest",status="200"\} 1$/m);
      assert.match(text, /^sluice_http_server_requests_total\{route="\/ingest",status="400"\} 1$/m);

      const result = await sluice.stop("SIGTERM");
      stopped = true;
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /SIGTERM: draining/);
      const all = (await Deno.readTextFile(`${dir}/logs/app.log`)).trim().split("\n").map((l) =>
        JSON.parse(l)
      );
      assert.deepEqual(
        all.map((r) => r.message),
        [...lines.map((_, i) => `m${i}`), "fine"],
      );
      assert.equal(all[7].id, 7);
      const errors = (await Deno.readTextFile(`${dir}/logs/errors.log`)).trim().split("\n");
      assert.equal(errors.length, 5);
    } finally {
      if (!stopped) await sluice.stop("SIGKILL");
    }
  });
});

Deno.test("sluice run drains on SIGINT too and exits 0", async () => {
  await withTempDir(async (dir) => {
    const config = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      config,
      "server: { listen: 127.0.0.1:0 }\nsources:\n  ingest: { type: http }\nsinks:\n  file: { type: file, path: out.log }\n",
    );
    const sluice = await startSluice(config);
    const res = await post(`${sluice.url}/ingest`, '{"message":"before SIGINT"}\n');
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const result = await sluice.stop("SIGINT");
    assert.equal(result.code, 0, result.stderr);
    assert.match(await Deno.readTextFile(`${dir}/out.log`), /before SIGINT/);
  });
});

Deno.test("sluice run refuses a bad config with exit 2 and starts nothing", async () => {
  await withTempDir(async (dir) => {
    const config = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      config,
      "sources:\n  ingest: { type: http }\nsinks:\n  file: { type: file, path: out.log }\n",
    );
    const result = await runCli(["run", "--config", config]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /sources\.ingest\.type: .*no server section/);
    assert.doesNotMatch(result.stderr, /^\s+at /m);
  });
});

Deno.test("sluice permissions prints exactly the flags deno task start runs config/sluice.yaml with", async () => {
  const result = await runCli(["permissions", "--config", "config/sluice.yaml"], { cwd: REPO });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "", "every built-in in the default config declares its permissions");
  const flags = result.stdout.trim();
  assert.match(
    flags,
    /^--allow-read=\S+ --allow-write=\S+ --allow-net=127\.0\.0\.1:9600 --allow-env=\S+$/,
  );
  assert.equal(
    denoJson.tasks.start,
    `deno run ${flags} src/cli/main.ts run --config config/sluice.yaml`,
  );
});

Deno.test("sluice run works under exactly the flags sluice permissions prints, module plugin included", async () => {
  await withTempDir(async (dir) => {
    const config = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      config,
      [
        "server: { listen: 127.0.0.1:0, token: '${SLUICE_TEST_TOKEN:-tok-0123456789ab}' }",
        "sources:",
        "  ingest: { type: http }",
        "sinks:",
        "  file: { type: file, path: '${SLUICE_TEST_DIR:-out}/app.log', format: json }",
        `  broken: { module: ${FAILING_SINK}, message: disk on fire }`,
        "",
      ].join("\n"),
    );
    const printed = await runCli(["permissions", "--config", "sluice.yaml"], { cwd: dir });
    assert.equal(printed.code, 0, printed.stderr);
    const flags = printed.stdout.trim().split(" ");
    assert.ok(flags.includes("--allow-net=127.0.0.1"), printed.stdout);
    assert.ok(flags.some((f) => /^--allow-write=.*\bout\b/.test(f)), printed.stdout);
    assert.ok(flags.some((f) => f.startsWith("--allow-read=") && f.includes(FAILING_SINK)));
    assert.ok(flags.some((f) => /^--allow-env=.*SLUICE_TEST_DIR.*SLUICE_TEST_TOKEN/.test(f)));

    const sluice = await startSluice("sluice.yaml", {
      flags,
      cwd: dir,
      extraArgs: ["--drain-timeout", "500ms"], // the failing sink never drains
    });
    let stopped = false;
    try {
      const auth = { authorization: "Bearer tok-0123456789ab" };
      const res = await fetch(`${sluice.url}/ingest`, {
        method: "POST",
        body: '{"message":"least privilege"}\n',
        headers: auth,
      });
      assert.equal(res.status, 200);
      await res.body?.cancel();
      // The module sink's writes throw: /ready names it (after its first failed write).
      let ready: Response | undefined;
      for (let i = 0; i < 100; i++) {
        ready = await fetch(`${sluice.url}/ready`);
        if (ready.status === 503) break;
        await ready.body?.cancel();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(ready!.status, 503);
      const body = await ready!.json();
      assert.equal(body.components[0].id, "broken");
      assert.match(body.components[0].problem, /disk on fire/);
      const result = await sluice.stop("SIGTERM");
      stopped = true;
      // The broken sink's record is lost at the drain: exit code 3 says so.
      assert.equal(result.code, 3, result.stderr);
      assert.doesNotMatch(result.stderr, /Requires \w+ access/);
      assert.match(await Deno.readTextFile(`${dir}/out/app.log`), /least privilege/);
    } finally {
      if (!stopped) await sluice.stop("SIGKILL");
    }
  });
});

Deno.test("sluice schema prints the config's JSON Schema with every built-in sink type", async () => {
  const result = await runCli(["schema"]);
  assert.equal(result.code, 0, result.stderr);
  const schema = JSON.parse(result.stdout);
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  const sinks = JSON.stringify(schema.$defs.sink);
  for (const type of ["console", "file", "memory"]) assert.ok(sinks.includes(`"const":"${type}"`));
  assert.ok(JSON.stringify(schema).includes("rate_limit"), "the server section is described");
});

Deno.test("SIGHUP makes sluice run reload, reopening its files: records after a move go to a new file", async () => {
  await withTempDir(async (dir) => {
    const config = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      config,
      "server: { listen: 127.0.0.1:0 }\nsources:\n  ingest: { type: http }\n" +
        "sinks:\n  file: { type: file, path: app.log }\n",
    );
    const sluice = await startSluice(config);
    let stopped = false;
    const waitFor = async (done: () => Promise<boolean> | boolean) => {
      for (let i = 0; i < 500 && !(await done()); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const read = (name: string) => Deno.readTextFile(`${dir}/${name}`).catch(() => "");
    try {
      const first = await post(`${sluice.url}/ingest`, '{"message":"before rotation"}\n');
      assert.equal(first.status, 200);
      await first.body?.cancel();
      await waitFor(async () => (await read("app.log")).includes("before rotation"));
      // Rotate the file away like logrotate, then tell sluice.
      await Deno.rename(`${dir}/app.log`, `${dir}/app.log.1`);
      sluice.signal("SIGHUP");
      await waitFor(() => sluice.stderr().includes("SIGHUP: reloaded"));
      const second = await post(`${sluice.url}/ingest`, '{"message":"after rotation"}\n');
      assert.equal(second.status, 200);
      await second.body?.cancel();
      const result = await sluice.stop("SIGTERM");
      stopped = true;
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /SIGHUP: reloaded/);
      assert.match(await read("app.log.1"), /before rotation/);
      assert.doesNotMatch(await read("app.log.1"), /after rotation/);
      assert.match(await read("app.log"), /after rotation/);
    } finally {
      if (!stopped) await sluice.stop("SIGKILL");
    }
  });
});
