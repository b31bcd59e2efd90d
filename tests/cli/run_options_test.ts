import assert from "node:assert/strict";
import { runCli, startSluice } from "../helpers/sluice_process.ts";

const MOD = new URL("../../mod.ts", import.meta.url).href;

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_run_options_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const VALID = "sources:\n  app: { type: logger }\nsinks:\n  out: { type: memory }\n";
const INVALID = "sinks:\n  out: { type: memry }\n";

Deno.test("a mistyped flag is answered with the closest known flag", async () => {
  const run = await runCli(["run", "--drain-timout", "5s"]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /Unknown option '--drain-timout' \(did you mean '--drain-timeout'\?\)/);
  const check = await runCli(["check", "--confg", "x.yaml"]);
  assert.equal(check.code, 2);
  assert.match(check.stderr, /Unknown option '--confg' \(did you mean '--config'\?\)/);
  const far = await runCli(["check", "--zzzzzz"]);
  assert.equal(far.code, 2);
  assert.doesNotMatch(far.stderr, /did you mean/);
});

Deno.test("the config comes from --config, else SLUICE_CONFIG, else ./sluice.yaml", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/good.yaml`, VALID);
    await Deno.writeTextFile(`${dir}/bad.yaml`, INVALID);
    const fromEnv = await runCli(["check"], { env: { SLUICE_CONFIG: `${dir}/good.yaml` } });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.equal(fromEnv.stdout.trim(), "ok");
    // --config wins over SLUICE_CONFIG.
    const flag = await runCli(["check", "--config", `${dir}/bad.yaml`], {
      env: { SLUICE_CONFIG: `${dir}/good.yaml` },
    });
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /bad\.yaml:2:\d+: sinks\.out\.type/);
    // Without either: ./sluice.yaml of the current directory.
    const none = await runCli(["check"], { cwd: dir });
    assert.equal(none.code, 2);
    assert.match(
      none.stderr,
      /Missing --config FILE: SLUICE_CONFIG is not set and none of \.\/sluice\.yaml, \/etc\/sluice\/sluice\.yaml exists/,
    );
    await Deno.copyFile(`${dir}/bad.yaml`, `${dir}/sluice.yaml`);
    const cwd = await runCli(["check"], { cwd: dir });
    assert.equal(cwd.code, 2);
    assert.match(cwd.stderr, /^\.\/sluice\.yaml:2:\d+: sinks\.out\.type/m);
    // SLUICE_CONFIG wins over ./sluice.yaml.
    const env = await runCli(["check"], { cwd: dir, env: { SLUICE_CONFIG: `${dir}/good.yaml` } });
    assert.equal(env.code, 0, env.stderr);
  });
});

Deno.test("sluice run --listen overrides server.listen, and starts a server without one", async () => {
  await withTempDir(async (dir) => {
    // 192.0.2.1 (TEST-NET-1) is no address of this machine: binding it fails.
    await Deno.writeTextFile(
      `${dir}/unbindable.yaml`,
      "server: { listen: 192.0.2.1:9600 }\n" + VALID,
    );
    const unbindable = await runCli(["run", "--config", `${dir}/unbindable.yaml`]);
    assert.equal(unbindable.code, 1);
    assert.match(unbindable.stderr, /Cannot listen on 192\.0\.2\.1:9600/);
    for (const config of ["unbindable.yaml", "no_server.yaml"]) {
      await Deno.writeTextFile(`${dir}/no_server.yaml`, VALID);
      const sluice = await startSluice(`${dir}/${config}`, {
        extraArgs: ["--listen", "127.0.0.1:0"],
      });
      try {
        assert.match(sluice.url, /^http:\/\/127\.0\.0\.1:\d+$/);
        const health = await fetch(`${sluice.url}/health`);
        assert.equal(health.status, 200);
        await health.body?.cancel();
      } finally {
        const stopped = await sluice.stop("SIGTERM");
        assert.equal(stopped.code, 0, stopped.stderr);
      }
    }
    const bad = await runCli(["run", "--config", `${dir}/no_server.yaml`, "--listen", "9600"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Invalid --listen "9600"; expected HOST:PORT/);
  });
});

Deno.test("sluice run --log-format json (or SLUICE_LOG_FORMAT=json) writes its own lines as JSON", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/sluice.yaml`, "server: { listen: 127.0.0.1:0 }\n" + VALID);
    const sluice = await startSluice(`${dir}/sluice.yaml`, {
      extraArgs: ["--log-format", "json"],
    });
    const result = await sluice.stop("SIGTERM");
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stderr.trim().split("\n");
    assert.ok(lines.length >= 3, result.stderr);
    const records = lines.map((line) => JSON.parse(line));
    for (const record of records) {
      assert.deepEqual(Object.keys(record), ["time", "level", "logger", "message"]);
      assert.equal(record.logger, "sluice");
      assert.ok(!Number.isNaN(Date.parse(record.time)));
    }
    const messages = records.map((r) => r.message);
    assert.ok(messages.some((m) => m.startsWith("Server listening on http://127.0.0.1:")));
    assert.ok(messages.includes("SIGTERM: draining (deadline 10000 ms)"), messages.join("\n"));

    // The variable does the same; an unknown format is a usage error (exit 2).
    const env = await runCli(["run", "--config", `${dir}/nope.yaml`], {
      env: { SLUICE_LOG_FORMAT: "json" },
    });
    assert.equal(env.code, 2);
    for (const line of env.stderr.trim().split("\n")) {
      assert.equal(JSON.parse(line).level, "ERROR", env.stderr);
    }
    // A usage error after the format is known: its usage text is one JSON line too.
    const usage = await runCli([
      "run",
      "--config",
      `${dir}/sluice.yaml`,
      "--log-format",
      "json",
      "--drain-timeout",
      "soon",
    ]);
    assert.equal(usage.code, 2);
    const said = usage.stderr.trim().split("\n").map((line) => JSON.parse(line).message);
    assert.match(said[0], /Invalid --drain-timeout "soon"/);
    assert.match(said[1], /^Usage: sluice run/);
    const bad = await runCli(["run", "--config", `${dir}/sluice.yaml`, "--log-format", "xml"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Invalid --log-format "xml"; expected text or json/);
  });
});

Deno.test("a plugin's failure is printed with its cause, at start and while running", async () => {
  await withTempDir(async (dir) => {
    const plugin = (type: string, body: string) =>
      [
        `import { definePlugin, s } from "${MOD}";`,
        "export default definePlugin({",
        `  kind: "sink", type: "${type}", description: "test", options: s.object({}),`,
        `  create() { ${body} },`,
        "});",
        "",
      ].join("\n");
    await Deno.writeTextFile(
      `${dir}/db.ts`,
      plugin(
        "db",
        `throw new Error('Cannot open sink "db"', ` +
          `{ cause: new Error("connect ECONNREFUSED 127.0.0.1:5432") });`,
      ),
    );
    await Deno.writeTextFile(
      `${dir}/quota.ts`,
      plugin(
        "quota",
        "return { write() { throw new Error('Cannot write batch', " +
          "{ cause: new Error('disk quota exceeded') }); }, " +
          "[Symbol.asyncDispose]: () => Promise.resolve() };",
      ),
    );
    await Deno.writeTextFile(
      `${dir}/start.yaml`,
      `sources:\n  app: { type: logger }\nsinks:\n  db: { module: ${dir}/db.ts }\n`,
    );
    const start = await runCli(["run", "--config", `${dir}/start.yaml`]);
    assert.equal(start.code, 1);
    assert.match(
      start.stderr,
      /^sluice run: Cannot create sink "db": Cannot open sink "db": connect ECONNREFUSED 127\.0\.0\.1:5432$/m,
    );

    await Deno.writeTextFile(
      `${dir}/write.yaml`,
      "server: { listen: 127.0.0.1:0 }\nsources:\n  app: { type: http }\n" +
        `sinks:\n  q: { module: ${dir}/quota.ts }\n`,
    );
    const sluice = await startSluice(`${dir}/write.yaml`, {
      extraArgs: ["--drain-timeout", "300ms"],
    });
    try {
      const posted = await fetch(`${sluice.url}/ingest`, {
        method: "POST",
        body: '{"message":"x"}\n',
      });
      await posted.body?.cancel();
      for (let i = 0; i < 100 && !/Cannot write to sink/.test(sluice.stderr()); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      const result = await sluice.stop("SIGTERM");
      assert.match(
        result.stderr,
        /WARN Cannot write to sink "q": Cannot write batch: disk quota exceeded$/m,
      );
    }
  });
});
