/**
 * One connection of the HTTP/1.1 server: its state, its buffered bytes, and how it is
 * written to and closed.
 *
 * @module
 */

/** Bytes read at once; a request head larger than this is split over reads. 64 KiB keeps reads few. */
export const READ_BYTES = 65_536;

/** What a connection is waiting for (each state has its own timeout). */
export type State = "head" | "body" | "handler" | "idle";

/** An open connection and what the server knows of it. */
export interface Connection {
  conn: Deno.Conn;
  /** Bytes read but not yet used. */
  pending: Uint8Array;
  state: State;
  /** When the current state's timeout fires (epoch ms); Infinity while the handler runs. */
  deadline: number;
  /** When the connection last finished a response or was accepted (for eviction order). */
  idleSince: number;
  closed: boolean;
  /** Aborts the running request's signal when the connection closes. */
  abort: AbortController | undefined;
}

/** Thrown when the peer closed the connection or it was closed under a read or write. */
export class ConnectionClosed extends Error {
  /** Creates the error. */
  constructor() {
    super("The connection closed");
    this.name = "ConnectionClosed";
  }
}

/** Writes all of `data`; throws {@linkcode ConnectionClosed} once the connection is closed. */
export async function writeAll(c: Connection, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    if (c.closed) throw new ConnectionClosed();
    offset += await c.conn.write(data.subarray(offset));
  }
}

/** Closes the connection once, aborting the running request's signal. */
export function closeConnection(c: Connection): void {
  if (c.closed) return;
  c.closed = true;
  c.abort?.abort();
  try {
    c.conn.close();
  } catch {
    // Already closed by the peer.
  }
}
