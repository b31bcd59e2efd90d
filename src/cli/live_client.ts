/**
 * What `sluice tap` and `sluice top` share: their connection flags and the `/live` stream.
 *
 * @module
 */

import { messageOf } from "../core/message_of.ts";
import { type SseEvent, sseEvents } from "./sse_events.ts";
import { UsageError } from "./usage_error.ts";

/** The server `sluice run` listens on when its config sets no `server.listen`. */
export const DEFAULT_URL = "http://127.0.0.1:9600";

/** The environment variable read for the bearer token when `--token` is not given. */
export const TOKEN_ENV = "SLUICE_TOKEN";

/** Flags both commands take, as `parseFlags` reads them. */
export const CONNECTION_FLAGS = {
  url: { type: "string" },
  token: { type: "string" },
} as const;

/** Help lines for {@linkcode CONNECTION_FLAGS}. */
export const CONNECTION_HELP =
  `  --url URL             the sluice run server (default ${DEFAULT_URL})
  --token TOKEN         its server.token (default: the ${TOKEN_ENV} environment variable;
                        prefer it, a flag shows in the process list)`;

/** Thrown when the server cannot be reached or refuses the stream; the message says why. */
export class LiveConnectError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LiveConnectError";
  }
}

/** The base URL and token of the parsed connection flags. */
export function connection(
  values: Record<string, unknown>,
  getEnv: (name: string) => string | undefined,
): { url: string; token: string | undefined } {
  const text = typeof values.url === "string" ? values.url : DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`Invalid --url "${text}"; expected such as ${DEFAULT_URL}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`Invalid --url "${text}"; expected an http:// or https:// URL`);
  }
  const token = typeof values.token === "string" ? values.token : getEnv(TOKEN_ENV);
  return { url: url.origin + url.pathname.replace(/\/$/, ""), token };
}

/**
 * Opens `GET <url>/live?<query>` and yields its events until the server ends the stream or
 * `signal` aborts. Throws a {@linkcode LiveConnectError} naming the cause (not listening, a
 * refused token, a bad filter the server explains).
 */
export async function* liveEvents(
  url: string,
  token: string | undefined,
  query: URLSearchParams,
  signal?: AbortSignal,
): AsyncGenerator<SseEvent> {
  let res: Response;
  try {
    res = await fetch(`${url}/live?${query}`, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if (signal?.aborted) return;
    throw new LiveConnectError(
      `Cannot reach ${url}: ${messageOf(error)} (is sluice run serving there? see --url)`,
      { cause: error },
    );
  }
  if (res.status !== 200) {
    const text = await res.text().catch(() => "");
    let detail = text;
    try {
      detail = JSON.parse(text).error ?? text;
    } catch {
      // Not JSON: say the text.
    }
    const hint = res.status === 401
      ? token === undefined
        ? ` (the server has a token: pass --token or set ${TOKEN_ENV})`
        : " (the token is not the server's)"
      : "";
    throw new LiveConnectError(`${url}/live answered ${res.status}: ${detail}${hint}`);
  }
  try {
    yield* sseEvents(res.body!);
  } catch (error) {
    if (signal?.aborted) return;
    throw new LiveConnectError(`The stream from ${url} broke: ${messageOf(error)}`, {
      cause: error,
    });
  }
}
