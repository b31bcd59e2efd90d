import assert from "node:assert/strict";
import { CLI_MAIN, DENO_JSON, runCli, startSluice } from "../helpers/sluice_process.ts";

const TOKEN = "t4p-t0ken-0123456";
const AUTH = { authorization: `Bearer ${TOKEN}` };

async function withSluice(
  fn: (url: string, post: (records: object[]) => Promise<void>) => Promise<void>,
): Promise<string> {
  const dir = await Deno.makeTempDir();
  try {
    const config = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      config,
      [
        `data_dir: ${dir}/.sluice`,
        `server: { listen: 127.0.0.1:0, token: ${TOKEN} }`,
        "sources:",
        "  ingest: { type: http }",
        "processors:",
        "  tagged: { type: fields, inputs: [ingest], add: { env: prod } }",
        "sinks:",
        `  out: { type: file, path: ${dir}/out.jsonl, format: json, inputs: [tagged] }`,
        "",
      ].join("\n"),
    );
    const sluice = await startSluice(config);
    let stopped = false;
    try {
      const post = async (records: object[]) => {
        const res = await fetch(`${sluice.url}/ingest`, {
          method: "POST",
          headers: { ...AUTH, "content-type": "application/x-ndjson" },
          body: records.map((r) => JSON.stringify(r)).join("\n") + "\n",
        });
        const text = await res.text();
        assert.equal(res.status, 200, text);
      };
      await fn(sluice.url, post);
      const result = await sluice.stop();
      stopped = true;
      assert.equal(result.code, 0, result.stderr);
      return await Deno.readTextFile(`${dir}/out.jsonl`);
    } finally {
      if (!stopped) await sluice.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Posts a batch every 100 ms until `done` settles (a tap waits for records that come). */
async function feeding<T>(
  post: (records: object[]) => Promise<void>,
  done: Promise<T>,
  records: object[],
): Promise<T> {
  let finished = false;
  done.finally(() => finished = true).catch(() => {});
  while (!finished) {
    await post(records);
    await Promise.race([done.catch(() => {}), new Promise((r) => setTimeout(r, 100))]);
  }
  return await done;
}

Deno.test("sluice tap: records of a running sluice run, filtered by field and level, as JSON and as text", async () => {
  const written = await withSluice(async (url, post) => {
    const env = { SLUICE_TOKEN: TOKEN };
    const json = await feeding(
      post,
      runCli(["tap", "--url", url, "--format", "json", "--field", "service=api", "--count", "3"], {
        env,
      }),
      [
        { level: "info", message: "paid", service: "api" },
        { level: "info", message: "ignored", service: "web" },
      ],
    );
    assert.equal(json.code, 0, json.stderr);
    const records = json.stdout.trim().split("\n").map((line) => JSON.parse(line));
    assert.equal(records.length, 3);
    for (const r of records) {
      assert.equal(r.message, "paid");
      assert.equal(r.fields.service, "api");
      assert.ok(r.component === "ingest" || r.component === "tagged", r.component);
    }
    const text = await feeding(
      post,
      runCli(["tap", "--url", url, "--component", "tagged", "--level", "error", "--count", "1"], {
        env,
      }),
      [
        { level: "info", message: "fine", service: "api" },
        { level: "error", message: "card declined", service: "api" },
      ],
    );
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^\d{4}-\d\d-\d\dT[\d:.]+Z ERROR \[tagged\] \S*:? ?card declined service=api env=prod\n$/,
    );
  });
  assert.match(written, /"message":"paid"/, "the sink got the records the tap showed");
});

Deno.test("sluice tap: no token, a wrong token and an unknown component are said on stderr, exit 1", async () => {
  await withSluice(async (url) => {
    const none = await runCli(["tap", "--url", url, "--count", "1"]);
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      /answered 401: A valid bearer token is required \(the server has a token: pass --token or set SLUICE_TOKEN\)/,
    );
    const wrong = await runCli(["tap", "--url", url, "--token", "nope", "--count", "1"]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /the token is not the server's/);
    assert.ok(!wrong.stderr.includes(TOKEN));
    const unknown = await runCli(["tap", "--url", url, "--component", "taged"], {
      env: { SLUICE_TOKEN: TOKEN },
    });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No component "taged" to tap; did you mean "tagged"\?/);
  });
  const refused = await runCli(["tap", "--url", "http://127.0.0.1:9", "--count", "1"]);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /Cannot reach http:\/\/127\.0\.0\.1:9: .* \(is sluice run serving there\? see --url\)/,
  );
});

Deno.test("sluice top: frames of every component with rates, totals and queue depth from a running sluice run", async () => {
  await withSluice(async (url, post) => {
    await post(Array.from({ length: 50 }, (_, i) => ({ level: "info", message: `r${i}` })));
    const top = await feeding(
      post,
      runCli(["top", "--url", url, "--interval", "200ms", "--count", "4"], {
        env: { SLUICE_TOKEN: TOKEN },
      }),
      [{ level: "info", message: "more" }],
    );
    assert.equal(top.code, 0, top.stderr);
    const frames = top.stdout.trim().split(/\n\n(?=sluice top:)/);
    assert.equal(frames.length, 4, top.stdout);
    const last = frames.at(-1)!;
    assert.match(last, /^sluice top: http:\/\/127\.0\.0\.1:\d+ {2}\d{4}-/);
    assert.match(
      last,
      /\nID\s+KIND\s+IN\/S\s+OUT\/S\s+DROP\/S\s+IN\s+OUT\s+DROPPED\s+QUEUE\s+STATUS\n/,
    );
    const row = (id: string) =>
      new RegExp(
        `\\n${id}\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)`,
      ).exec(last);
    const ingest = row("ingest")!;
    assert.equal(ingest[1], "source");
    assert.ok(Number(ingest[5]!.replace(/,/g, "")) >= 50, "IN counts the 50 posted first");
    const out = row("out")!;
    assert.equal(out[1], "sink");
    assert.match(out[9]!, /^ok$/);
    assert.match(out[8]!, /^\d+$/, "a sink has a queue depth");
    assert.ok(
      frames.slice(1).some((f) => /\ningest\s+source\s+\d/.test(f)),
      "later frames have rates",
    );
  });
});

Deno.test("sluice tap: stopping sluice run ends the tap (exit 0, said) and the run does not wait for it", async () => {
  let tap: { status: Promise<Deno.CommandStatus>; stderr: Promise<string> } | undefined;
  let stoppedAt = 0;
  await withSluice(async (url, post) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", `--config=${DENO_JSON}`, "-A", CLI_MAIN, "tap", "--url", url],
      env: { SLUICE_TOKEN: TOKEN, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    tap = { status: child.status, stderr: new Response(child.stderr).text() };
    // Once the tap shows a record it is connected.
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    const deadline = Date.now() + 20_000;
    while (!seen.includes("hello-tap") && Date.now() < deadline) {
      await post([{ level: "info", message: "hello-tap" }]);
      const next = await Promise.race([
        reader.read(),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 200)),
      ]);
      if (next?.value) seen += next.value;
    }
    assert.match(seen, /hello-tap/);
    reader.cancel().catch(() => {});
    stoppedAt = Date.now();
  });
  assert.ok(Date.now() - stoppedAt < 5_000, "sluice run stopped without waiting for the tap");
  const status = await tap!.status;
  assert.equal(status.code, 0);
  assert.match(await tap!.stderr, /ended the stream \(shutting down\)/);
});
