/**
 * Reading a server-sent event stream (what `/live` answers) into events.
 *
 * @module
 */

/** One server-sent event. */
export interface SseEvent {
  /** The `event:` field; `message` when it had none. */
  event: string;
  /** The `data:` lines, joined with newlines. */
  data: string;
}

/**
 * The events of a `text/event-stream` body, in order (comments and `retry:` are skipped), as
 * the HTML standard's parsing rules read them: lines end in LF, CRLF or CR; an empty line
 * ends an event; an event without data is not dispatched.
 *
 * @example Two events
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseEvents } from "./sse_events.ts";
 * const body = new Response(": hi\n\nevent: a\ndata: 1\n\ndata: x\ndata: y\n\n").body!;
 * const events = [];
 * for await (const e of sseEvents(body)) events.push(e);
 * assert.deepEqual(events, [{ event: "a", data: "1" }, { event: "message", data: "x\ny" }]);
 * ```
 */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffered = "";
  let name = "";
  let data: string[] = [];
  const line = (text: string): SseEvent | undefined => {
    if (text === "") {
      const done = data.length > 0
        ? { event: name || "message", data: data.join("\n") }
        : undefined;
      name = "";
      data = [];
      return done;
    }
    if (text.startsWith(":")) return undefined;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
    return undefined;
  };
  const eol = /\r\n|\r|\n/g;
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let start = 0;
    eol.lastIndex = 0;
    let match: RegExpExecArray | null;
    while ((match = eol.exec(buffered)) !== null) {
      // A CR at the very end may be the first half of a CRLF still on its way.
      if (match[0] === "\r" && match.index === buffered.length - 1) break;
      const event = line(buffered.slice(start, match.index));
      start = eol.lastIndex;
      if (event) yield event;
    }
    buffered = buffered.slice(start);
  }
}
