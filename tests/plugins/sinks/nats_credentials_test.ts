/**
 * The nats sink and source authenticate to a real nats-server that demands each kind of
 * credential (token, user and password, nkey, `.creds` file, TLS with a client certificate),
 * through a real `sluice run`: HTTP ingest → nats sink → stream → nats source → file.
 */
import assert from "node:assert/strict";
import { runScript } from "../../helpers/run_script.ts";
import { startSluice } from "../../helpers/sluice_process.ts";
import { natsServerPeer, startNats } from "../../helpers/nats_server.ts";
import { makeNkeyUser, makeOperatorUser, makeTlsFiles } from "../../helpers/nats_auth.ts";
import { skipWithout } from "../../helpers/peers.ts";

const ignore = skipWithout(natsServerPeer());

const RECORDS = 50;

interface Case {
  /** nats-server config demanding the credential (files under `dir`). */
  server: (dir: string) => Promise<string> | string;
  /** The `auth:` and `tls:` lines of both components, and the server URL's scheme. */
  client: (dir: string) => { yaml: string; scheme?: string };
  /** The environment of `sluice run` (secrets the config refers to as `${VAR}`). */
  env?: Record<string, string>;
  /** Strings that must never appear in stderr. */
  secrets: (dir: string) => Promise<string[]> | string[];
}

/**
 * Runs one `sluice run` whose nats sink publishes what the http source takes and whose nats
 * source consumes it into a file; resolves with its stderr once every record is in the file.
 */
async function roundTrip(c: Case): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice-nats-auth-" });
  const server = await startNats(await c.server(dir));
  try {
    const { yaml, scheme = "nats" } = c.client(dir);
    const url = server.url.replace("nats:", `${scheme}:`);
    const common = `servers: ["${url}"]\n    stream: LOGS\n    ${yaml}`;
    const config = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(
      config,
      `server: { listen: 127.0.0.1:0, rate_limit: { requests_per_second: 0 } }
data_dir: ${dir}/data
sources:
  ingest: { type: http, path: /ingest }
  consume:
    type: nats
    consumer: aggregators
    ${common}
sinks:
  publish:
    type: nats
    inputs: [ingest]
    subject: logs.app
    ${common}
  out: { type: file, inputs: [consume], path: ${dir}/out.log, format: json }
`,
    );
    const sluice = await startSluice(config, c.env ? { env: c.env } : {});
    let stderr = "";
    try {
      const body = Array.from(
        { length: RECORDS },
        (_, i) => JSON.stringify({ level: "info", message: `record ${i}` }),
      ).join("\n");
      const response = await fetch(`${sluice.url}/ingest`, {
        method: "POST",
        headers: { "content-type": "application/x-ndjson" },
        body,
      });
      await response.body?.cancel();
      assert.equal(response.status, 200, sluice.stderr());
      const deadline = Date.now() + 30_000;
      let lines: string[] = [];
      while (Date.now() < deadline) {
        lines = (await Deno.readTextFile(`${dir}/out.log`).catch(() => "")).split("\n")
          .filter((l) => l !== "");
        if (lines.length >= RECORDS) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.deepEqual(
        lines.map((l) => JSON.parse(l).message).sort(),
        Array.from({ length: RECORDS }, (_, i) => `record ${i}`).sort(),
        `${sluice.stderr()}\n${server.log().slice(-2000)}`,
      );
    } finally {
      stderr = (await sluice.stop()).stderr;
    }
    assert.match(stderr, /Sink "publish" connected to NATS at 127\.0\.0\.1/);
    assert.match(stderr, /Source "consume" connected to NATS at 127\.0\.0\.1/);
    assert.doesNotMatch(stderr, /cannot connect/, stderr);
    for (const secret of await c.secrets(dir)) assert.ok(!stderr.includes(secret), stderr);
    // The same server refuses a client without the credential. Tried in a process of its own:
    // the refused client's socket can raise ECONNRESET after connect() has rejected, an
    // uncaught error that would fail whichever test of this file runs next.
    const anonymous = await runScript(
      `try {
  await connect({ servers: ${JSON.stringify(url)}, timeout: 3000, reconnect: false });
  console.log("connected");
} catch (error) {
  console.log("refused: " + (error instanceof Error ? error.message : String(error)));
}
Deno.exit(0);
`,
      dir,
    );
    assert.match(anonymous.stdout, /^refused: /, anonymous.stdout + anonymous.stderr);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

const TOKEN = "t0ken-for-the-test-4f1c";
const PASSWORD = "passw0rd-for-the-test-9b2e";

Deno.test({
  name: "nats sink and source: a token from the environment (${VAR})",
  ignore,
  fn: () =>
    roundTrip({
      server: () => `authorization { token: "${TOKEN}" }`,
      client: () => ({ yaml: 'auth: { token: "${NATS_TOKEN}" }' }),
      env: { NATS_TOKEN: TOKEN },
      secrets: () => [TOKEN],
    }),
});

Deno.test({
  name: "nats sink and source: a token from a file",
  ignore,
  fn: () =>
    roundTrip({
      server: async (dir) => {
        await Deno.writeTextFile(`${dir}/token`, `${TOKEN}\n`);
        return `authorization { token: "${TOKEN}" }`;
      },
      client: (dir) => ({ yaml: `auth: { token_file: ${dir}/token }` }),
      secrets: () => [TOKEN],
    }),
});

Deno.test({
  name: "nats sink and source: user and password, the password from the environment",
  ignore,
  fn: () =>
    roundTrip({
      server: () => `authorization { users: [{ user: agent, password: "${PASSWORD}" }] }`,
      client: () => ({ yaml: 'auth: { user: agent, password: "${NATS_PASSWORD}" }' }),
      env: { NATS_PASSWORD: PASSWORD },
      secrets: () => [PASSWORD],
    }),
});

Deno.test({
  name: "nats sink and source: user and password, the password from a file",
  ignore,
  fn: () =>
    roundTrip({
      server: async (dir) => {
        await Deno.writeTextFile(`${dir}/password`, PASSWORD);
        return `authorization { users: [{ user: agent, password: "${PASSWORD}" }] }`;
      },
      client: (dir) => ({ yaml: `auth: { user: agent, password_file: ${dir}/password }` }),
      secrets: () => [PASSWORD],
    }),
});

Deno.test({
  name: "nats sink and source: an nkey seed from a file",
  ignore,
  fn: async () => {
    const nkey = makeNkeyUser();
    await roundTrip({
      server: async (dir) => {
        await Deno.writeTextFile(`${dir}/agent.nk`, `${nkey.seed}\n`);
        return `authorization { users: [{ nkey: ${nkey.publicKey} }] }`;
      },
      client: (dir) => ({ yaml: `auth: { nkey_file: ${dir}/agent.nk }` }),
      secrets: () => [nkey.seed],
    });
  },
});

Deno.test({
  name: "nats sink and source: a .creds file (user JWT and seed) against an operator-mode server",
  ignore,
  fn: async () => {
    const operator = makeOperatorUser();
    await roundTrip({
      server: async (dir) => {
        await Deno.writeTextFile(`${dir}/agent.creds`, operator.creds);
        return operator.serverConfig;
      },
      client: (dir) => ({ yaml: `auth: { creds_file: ${dir}/agent.creds }` }),
      secrets: () => [/SU[A-Z0-9]{56}/.exec(operator.creds)![0]],
    });
  },
});

Deno.test({
  name: "nats sink and source: TLS with a private CA and a client certificate (verify: true)",
  ignore,
  fn: async () => {
    await roundTrip({
      server: async (dir) => {
        const files = await makeTlsFiles(dir);
        return `tls { cert_file: "${files.serverCert}", key_file: "${files.serverKey}", ` +
          `ca_file: "${files.ca}", verify: true }`;
      },
      client: (dir) => ({
        yaml: `tls: { ca_file: ${dir}/ca.pem, cert_file: ${dir}/client.pem, ` +
          `key_file: ${dir}/client.key }`,
        scheme: "tls",
      }),
      secrets: async (dir) => [
        (await Deno.readTextFile(`${dir}/client.key`)).split("\n")[1]!,
      ],
    });
  },
});

Deno.test({
  name:
    "nats sink: a wrong token is refused by the server, said once on stderr without the token, and nothing is delivered",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sluice-nats-auth-" });
    const server = await startNats(`authorization { token: "${TOKEN}" }`);
    try {
      const config = `${dir}/sluice.yaml`;
      await Deno.writeTextFile(
        config,
        `server: { listen: 127.0.0.1:0 }
sources:
  ingest: { type: http, path: /ingest }
sinks:
  publish:
    type: nats
    inputs: [ingest]
    servers: ["${server.url}"]
    stream: LOGS
    subject: logs.app
    auth: { token: "\${NATS_TOKEN}" }
`,
      );
      const wrong = "not-the-token-7d3a";
      const sluice = await startSluice(config, { env: { NATS_TOKEN: wrong } });
      const deadline = Date.now() + 20_000;
      while (!sluice.stderr().includes("cannot connect") && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const metrics = await (await fetch(`${sluice.url}/metrics`)).text();
      const { stderr } = await sluice.stop();
      assert.match(
        stderr,
        /Sink "publish" cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+; retrying/,
      );
      assert.match(stderr, /Authorization Violation/);
      assert.equal(stderr.match(/cannot connect/g)?.length, 1, stderr);
      assert.ok(!stderr.includes(wrong) && !stderr.includes(TOKEN), stderr);
      assert.doesNotMatch(metrics, /sluice_records_out_total\{component="publish"\} [1-9]/);
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
