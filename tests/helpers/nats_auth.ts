/**
 * Credentials for tests against a real `nats-server`: a CA and certificates made by `openssl`,
 * nkeys, and an operator, account and user signed as `nsc` signs them (for a `.creds` file),
 * each with the server config that demands it.
 *
 * @module
 */

import { nkeys } from "@nats-io/transport-node";

/** The files of a test CA, a server certificate for 127.0.0.1 and a client certificate. */
export interface TlsFiles {
  /** The CA's certificate (PEM). */
  ca: string;
  /** The server's certificate and key (subject alternative name IP 127.0.0.1). */
  serverCert: string;
  serverKey: string;
  /** A client certificate and key, signed by the same CA. */
  clientCert: string;
  clientKey: string;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
    .output();
  if (out.code !== 0) {
    throw new Error(`openssl ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Makes a CA, and a server and a client certificate it signs, under `dir`. */
export async function makeTlsFiles(dir: string): Promise<TlsFiles> {
  const days = ["-days", "2"];
  await openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    ...days,
    "-subj",
    "/CN=sluice test CA",
  );
  for (const [name, ext] of [["server", "subjectAltName=IP:127.0.0.1"], ["client", ""]]) {
    await openssl(
      dir,
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=sluice test ${name}`,
    );
    if (ext) await Deno.writeTextFile(`${dir}/${name}.ext`, `${ext}\n`);
    await openssl(
      dir,
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      ...days,
      ...ext ? ["-extfile", `${name}.ext`] : [],
    );
  }
  return {
    ca: `${dir}/ca.pem`,
    serverCert: `${dir}/server.pem`,
    serverKey: `${dir}/server.key`,
    clientCert: `${dir}/client.pem`,
    clientKey: `${dir}/client.key`,
  };
}

/** An nkey user: the public key the server lists, the seed the client keeps in a file. */
export function makeNkeyUser(): { publicKey: string; seed: string } {
  const user = nkeys.createUser();
  return { publicKey: user.getPublicKey(), seed: new TextDecoder().decode(user.getSeed()) };
}

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

/** A JWT as the NATS tools write it (`ed25519-nkey`), signed by `issuer`. */
function signJwt(issuer: nkeys.KeyPair, subject: string, nats: Record<string, unknown>): string {
  const encoder = new TextEncoder();
  const header = base64url(encoder.encode(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" })));
  const claims = {
    jti: crypto.randomUUID().replaceAll("-", "").toUpperCase(),
    iat: Math.floor(Date.now() / 1000),
    iss: issuer.getPublicKey(),
    name: subject.slice(0, 8),
    sub: subject,
    nats: { version: 2, ...nats },
  };
  const body = `${header}.${base64url(encoder.encode(JSON.stringify(claims)))}`;
  return `${body}.${base64url(issuer.sign(encoder.encode(body)))}`;
}

/** Unlimited account limits, with JetStream enabled (disk and memory storage). */
const ACCOUNT_LIMITS = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
  mem_storage: -1,
  disk_storage: -1,
  streams: -1,
  consumer: -1,
};

/**
 * Decentralised auth as `nsc` sets it up: an operator, a system account, an account with
 * JetStream and one user of it. `serverConfig` goes into nats.conf (memory resolver); `creds`
 * is the user's `.creds` file (its JWT and nkey seed).
 */
export function makeOperatorUser(): { serverConfig: string; creds: string } {
  const operator = nkeys.createOperator();
  const system = nkeys.createAccount();
  const account = nkeys.createAccount();
  const user = nkeys.createUser();
  const operatorJwt = signJwt(operator, operator.getPublicKey(), { type: "operator" });
  const systemJwt = signJwt(operator, system.getPublicKey(), {
    type: "account",
    limits: { ...ACCOUNT_LIMITS, mem_storage: 0, disk_storage: 0, streams: 0, consumer: 0 },
  });
  const accountJwt = signJwt(operator, account.getPublicKey(), {
    type: "account",
    limits: ACCOUNT_LIMITS,
  });
  const userJwt = signJwt(account, user.getPublicKey(), {
    type: "user",
    pub: {},
    sub: {},
    subs: -1,
    data: -1,
    payload: -1,
  });
  const seed = new TextDecoder().decode(user.getSeed());
  return {
    serverConfig: `operator: ${operatorJwt}
system_account: ${system.getPublicKey()}
resolver: MEMORY
resolver_preload: {
  ${system.getPublicKey()}: ${systemJwt}
  ${account.getPublicKey()}: ${accountJwt}
}`,
    creds: `-----BEGIN NATS USER JWT-----
${userJwt}
------END NATS USER JWT------

************************* IMPORTANT *************************
NKEY Seed printed below can be used to sign and prove identity.
NKEYs are sensitive and should be treated as secrets.

-----BEGIN USER NKEY SEED-----
${seed}
------END USER NKEY SEED------

*************************************************************
`,
  };
}
