/**
 * Parsing a request head: the request line, the headers, and how the body is framed.
 *
 * @module
 */

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** The header fields the server itself reads. */
const READ_HERE = new Set(["connection", "transfer-encoding", "content-length", "host", "expect"]);

/** A request the server refuses (answered with `status`, counted by `reason`, then closed). */
export class BadRequest extends Error {
  /** Creates the error. */
  constructor(readonly status: number, readonly reason: string, message: string) {
    super(message);
    this.name = "BadRequest";
  }
}

/** What the server needs of a request head. */
export interface ParsedHead {
  method: string;
  url: string;
  /**
   * The header fields in order, as the request's `HeadersInit`: a `Request` takes a list of
   * pairs in 5 µs against 17 µs for a `Headers` built first (7 fields, measured).
   */
  headers: [string, string][];
  http10: boolean;
  keepAlive: boolean;
  chunked: boolean;
  length: number;
  expectContinue: boolean;
}

/**
 * Parses a request head (without its final CRLF CRLF); throws {@linkcode BadRequest} for a
 * malformed line, header, framing or target. `conn` supplies the authority when `Host` is
 * missing or unusable.
 */
export function parseHead(text: string, conn: Deno.Conn): ParsedHead {
  const lines = text.split("\r\n");
  const requestLine = lines[0] ?? "";
  const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/1\.([01])$/.exec(requestLine);
  if (!match) throw new BadRequest(400, "bad_request_line", "Malformed request line");
  const [, method, target, minor] = match as unknown as [string, string, string, string];
  const headers: [string, string][] = [];
  // The values of the fields read here, combined as `Headers.get` combines repeated ones.
  const known = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) throw new BadRequest(400, "bad_header", "Malformed header line");
    // Trimmed as before; `Headers` refuses a value with NUL, CR or LF.
    const value = line.slice(colon + 1).trim();
    if (/[\0\r\n]/.test(value)) {
      throw new BadRequest(400, "bad_header", `Malformed value of header "${name}"`);
    }
    headers.push([name, value]);
    const key = name.toLowerCase();
    if (READ_HERE.has(key)) {
      const before = known.get(key);
      known.set(key, before === undefined ? value : `${before}, ${value}`);
    }
  }
  const http10 = minor === "0";
  const connection = (known.get("connection") ?? "").toLowerCase();
  const keepAlive = http10 ? connection.includes("keep-alive") : !connection.includes("close");
  const te = known.get("transfer-encoding") ?? null;
  const cl = known.get("content-length") ?? null;
  let chunked = false;
  let length = 0;
  if (te !== null) {
    // A length and a transfer coding together is how requests are smuggled past proxies.
    if (cl !== null || te.trim().toLowerCase() !== "chunked") {
      throw new BadRequest(400, "bad_framing", "Unsupported Transfer-Encoding");
    }
    chunked = true;
  } else if (cl !== null) {
    if (!/^\d{1,15}$/.test(cl.trim())) {
      throw new BadRequest(400, "bad_framing", "Malformed Content-Length");
    }
    length = Number(cl.trim());
  }
  const host = known.get("host") ?? "";
  const authority = /^[A-Za-z0-9.\-:[\]]+$/.test(host)
    ? host
    : `${(conn.localAddr as Deno.NetAddr).hostname}:${(conn.localAddr as Deno.NetAddr).port}`;
  let url: string;
  if (target.startsWith("/")) url = `http://${authority}${target}`;
  else if (/^https?:\/\//i.test(target)) url = target;
  else if (target === "*" && method === "OPTIONS") url = `http://${authority}/`;
  else throw new BadRequest(400, "bad_request_line", "Malformed request target");
  try {
    url = new URL(url).href;
  } catch {
    throw new BadRequest(400, "bad_request_line", "Malformed request target");
  }
  return {
    method,
    url,
    headers,
    http10,
    keepAlive,
    chunked,
    length,
    expectContinue: !http10 && (known.get("expect") ?? "").toLowerCase() === "100-continue",
  };
}
