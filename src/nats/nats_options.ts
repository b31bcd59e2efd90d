/**
 * The options the `nats` sink and source share: servers, credentials and the stream, and
 * what `sluice permissions` derives from them.
 *
 * @module
 */

import { resolve } from "node:path";
import type { Issue, Path, Secret, ShapeType } from "../schema/schema.ts";
import { s } from "../schema/schema.ts";
import type { PermissionContext, PluginPermissions } from "../plugin/types.ts";

/** A stream or consumer name as NATS accepts it (no spaces, dots, `*`, `>` or slashes). */
const NAME = /^[A-Za-z0-9_-]+$/;
/** A subject: dot-separated tokens, `*` for one token, `>` for the rest. */
const SUBJECT = /^([^.\s*>]+|\*)(\.([^.\s*>]+|\*))*(\.>)?$|^>$/;

/** The schema of a stream or consumer name. */
export function natsName(what: string): ReturnType<typeof s.string> {
  return s.string({ pattern: NAME, patternName: `a ${what} name (letters, digits, _ and -)` });
}

/** The schema of a subject (wildcards allowed when `wildcards`). */
export function natsSubject(): ReturnType<typeof s.string> {
  return s.string({ pattern: SUBJECT, patternName: "a NATS subject such as logs.app or logs.>" });
}

/**
 * The connection options (`servers`, `name`, `auth`, `tls`) and the stream's settings, used
 * when the stream is missing and checked when it exists.
 */
export const natsShape = {
  servers: s.array(
    s.string({
      pattern: /^(nats|tls):\/\/[^\s/]+$|^[^\s/:]+:\d+$/,
      patternName: "nats://host:port, tls://host:port or host:port",
    }),
    { minItems: 1, single: true },
  ).describe("Servers of the cluster; the client learns the others and fails over between them."),
  name: s.string({ minLength: 1 }).optional().describe(
    "The connection's name in the server's monitoring (default sluice-<component>).",
  ),
  auth: s.object({
    token: s.secret().optional().describe("A token, as a ${VAR} reference (never written in)."),
    token_file: s.string({ minLength: 1 }).optional().describe("A file holding the token."),
    user: s.string({ minLength: 1 }).optional().describe("The user (with password)."),
    password: s.secret().optional().describe(
      "The user's password, as a ${VAR} reference (never written in).",
    ),
    password_file: s.string({ minLength: 1 }).optional().describe(
      "A file holding the user's password.",
    ),
    creds_file: s.string({ minLength: 1 }).optional().describe(
      "A .creds file (JWT and nkey seed) as `nsc` writes it.",
    ),
    nkey_file: s.string({ minLength: 1 }).optional().describe("A file holding an nkey seed."),
  }, { refine: refineAuth }).optional().describe(
    "Credentials, from the environment or files; a secret written into the config is refused.",
  ),
  tls: s.object({
    ca_file: s.string({ minLength: 1 }).optional().describe("CA certificates to trust (PEM)."),
    cert_file: s.string({ minLength: 1 }).optional().describe("Client certificate (PEM)."),
    key_file: s.string({ minLength: 1 }).optional().describe("Client certificate's key (PEM)."),
  }).optional().describe("TLS to the servers (implied by tls:// URLs)."),
  stream: natsName("stream").describe("The JetStream stream."),
  subjects: s.array(natsSubject(), { minItems: 1, single: true }).optional().describe(
    "Subjects the stream stores when Sluice creates it (sink default: its subject).",
  ),
  replicas: s.integer({ min: 1, max: 5 }).optional().describe(
    "Copies of each message in the cluster (when creating; checked when the stream exists).",
  ),
  retention: s.enum(["limits", "workqueue", "interest"] as const).optional().describe(
    "The stream's retention policy (when creating; checked when it exists). Default limits.",
  ),
  max_age: s.duration().optional().describe("Oldest message the stream keeps (default forever)."),
  max_bytes: s.bytes().optional().describe("Most bytes the stream keeps (default unlimited)."),
  duplicate_window: s.duration().optional().describe(
    "How long the stream remembers message ids to drop a resent message (default 2m).",
  ),
};

function refineAuth(
  auth: {
    token?: Secret | undefined;
    token_file?: string | undefined;
    user?: string | undefined;
    password?: Secret | undefined;
    password_file?: string | undefined;
    creds_file?: string | undefined;
    nkey_file?: string | undefined;
  },
  path: Path,
  ctx: { issues: Issue[] },
): void {
  for (const key of ["token", "password"] as const) {
    if (auth[key] && !auth[key].fromEnvironment) {
      ctx.issues.push({
        path: [...path, key],
        message: `A ${key} is written into the config, where it leaks through version ` +
          "control, backups and config dumps",
        hint: `refer to it as \${VAR}, or use ${key}_file`,
      });
    }
  }
  const methods = [
    auth.token || auth.token_file ? "token" : undefined,
    auth.user ? "user" : undefined,
    auth.creds_file ? "creds_file" : undefined,
    auth.nkey_file ? "nkey_file" : undefined,
  ].filter((m) => m !== undefined);
  if (methods.length > 1) {
    ctx.issues.push({
      path,
      message: `Give one way to authenticate, not ${methods.join(" and ")}`,
    });
  }
  if (auth.token && auth.token_file) {
    ctx.issues.push({ path, message: "Give token or token_file, not both" });
  }
  if ((auth.password || auth.password_file) && !auth.user) {
    ctx.issues.push({ path: [...path, "user"], message: "A password needs a user" });
  }
  if (auth.password && auth.password_file) {
    ctx.issues.push({ path, message: "Give password or password_file, not both" });
  }
}

/** The parsed connection and stream options (the shape above). */
export type NatsOptions = ShapeType<typeof natsShape>;

/** `host:port` of a server URL (4222 when it has no port). */
export function hostPort(server: string): string {
  const url = new URL(server.includes("://") ? server : `nats://${server}`);
  return `${url.hostname}:${url.port || "4222"}`;
}

/** The files the credentials and TLS options name, resolved against `baseDir`. */
export function credentialFiles(options: NatsOptions, baseDir: string): string[] {
  const auth = options.auth ?? {} as NonNullable<NatsOptions["auth"]>;
  const tls = options.tls;
  return [
    auth.token_file,
    auth.password_file,
    auth.creds_file,
    auth.nkey_file,
    tls?.ca_file,
    tls?.cert_file,
    tls?.key_file,
  ].filter((f) => f !== undefined).map((f) => resolve(baseDir, f));
}

/**
 * What a `nats` component needs: the servers' hosts, and reading its credential files.
 * The client learns the cluster's other members from the servers it reaches; run with
 * `--allow-net` for them too, or list every member in `servers`.
 */
export function natsPermissions(
  options: NatsOptions,
  context: PermissionContext,
): PluginPermissions {
  const files = credentialFiles(options, context.baseDir);
  return {
    net: [...new Set(options.servers.map(hostPort))],
    ...(files.length > 0 ? { read: files } : {}),
  };
}
