/**
 * Keeps a NATS client's late socket error from ending the process.
 *
 * The NATS client closes a refused connection (a wrong token, say) with
 * `socket.removeAllListeners(); socket.destroy()`. Under Deno's `node:net`, a read that was
 * already pending can still fail with ECONNRESET after that, on a socket nobody listens to
 * any more, and an EventEmitter `error` without a listener is an uncaught exception: the whole
 * `sluice run` exited. Measured against a real nats-server refusing a wrong token: 106 of 200
 * refused connections raised one. Such an error belongs to a connection that is already
 * closed and handled, so it is counted and reported once instead.
 *
 * @module
 */

import { handledErrors } from "../core/handled_errors.ts";
import type { InternalLog } from "../plugin/types.ts";

/** Error codes of a peer that went away; only these, from a socket read or write, are kept. */
const PEER_GONE = new Set(["ECONNRESET", "EPIPE"]);

let installed: InternalLog | undefined;

/** Whether `error` is a socket error raised with no listener, from Node's stream layer. */
function isStraySocketError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, syscall } = error as Error & { code?: unknown; syscall?: unknown };
  return typeof code === "string" && PEER_GONE.has(code) &&
    (syscall === "read" || syscall === "write") && (error.stack ?? "").includes("TCPWrap");
}

/**
 * Installs, once per process, the listener that counts such errors through `log` (the first
 * caller's) instead of letting them end the process; every other uncaught error is untouched.
 *
 * @example Installing twice is the same as installing once
 * ```ts
 * import assert from "node:assert/strict";
 * import { guardStraySocketErrors } from "./stray_socket_errors.ts";
 *
 * const log = { warnOnce() {}, info() {} };
 * assert.equal(guardStraySocketErrors(log), true);
 * assert.equal(guardStraySocketErrors(log), false);
 * ```
 */
export function guardStraySocketErrors(log: InternalLog): boolean {
  if (installed) return false;
  installed = log;
  globalThis.addEventListener("error", (event) => {
    if (!isStraySocketError(event.error)) return;
    event.preventDefault();
    handledErrors.add(event.error);
    log.warnOnce(
      "nats:stray-socket-error",
      "A closed NATS connection's socket reported an error after it was closed; ignored",
      event.error,
    );
  });
  return true;
}
