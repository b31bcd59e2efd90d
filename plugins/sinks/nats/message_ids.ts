/**
 * Grouping records into JetStream messages with ids that survive a retry.
 *
 * @module
 */

import type { LogRecord } from "../../../src/core/record.ts";
import { utf8Length } from "../../../src/core/utf8_length.ts";
import type { Formatter } from "../../../src/plugin/types.ts";

/** One message to publish: its id, its records and their formatted lines. */
export interface OutgoingMessage {
  /** The `Nats-Msg-Id`: this process's prefix, the first record's number and the count. */
  id: string;
  /** The records it holds, in order. */
  records: LogRecord[];
  /** Each record's formatted line, in the same order. */
  lines: (string | Uint8Array)[];
}

/** A record's number and the first number of the message it was first sent in (-1: none yet). */
interface Numbered {
  n: number;
  message: number;
}

/** Groups records into messages (see {@linkcode messageIds}). */
export interface MessageIds {
  /** Groups a batch; records seen before keep their message and its id. */
  group(
    records: readonly LogRecord[],
    format: Formatter,
    onError: (record: LogRecord, error: unknown) => void,
  ): OutgoingMessage[];
}

/**
 * Numbers records and groups them into messages of at most `maxRecords` records and
 * `maxBytes` bytes. Each record gets its number once (kept in a weak map); a message holds
 * a run of consecutive numbers and its id names the run, `<prefix>-<first>-<last>`. When the
 * pipeline retries records after a lost acknowledgement, they are regrouped into the very
 * messages they were first sent in, with the same ids, so the stream drops the copies it
 * already stored. A retry that holds only part of a first message gets an id of its own
 * (its run is shorter), so no record is ever taken for a copy of a message it was not in:
 * the worst case is a duplicate, never a loss. The ids start with a random prefix per
 * process, so two agents (or one restarted) never collide.
 *
 * @example A retried record keeps its message id
 * ```ts
 * import assert from "node:assert/strict";
 * import { messageIds } from "./message_ids.ts";
 * const ids = messageIds(2, 1 << 20);
 * const records = [1, 2, 3].map((n) => ({ time: n, level: 30, logger: "app", message: `m${n}`, fields: {} }));
 * const format = (r: { message: string }) => r.message;
 * const first = ids.group(records, format, () => {});
 * assert.deepEqual(first.map((m) => m.records.length), [2, 1]);
 * const again = ids.group(records, format, () => {});
 * assert.deepEqual(again.map((m) => m.id), first.map((m) => m.id));
 * const part = ids.group([records[1]!], format, () => {});
 * assert.notEqual(part[0]!.id, first[0]!.id);
 * ```
 */
export function messageIds(maxRecords: number, maxBytes: number): MessageIds {
  const prefix = crypto.randomUUID().slice(0, 13);
  let next = 0;
  /** A record's number and the first number of the message it was first sent in. */
  const numbered = new WeakMap<LogRecord, Numbered>();
  return {
    group(records, format, onError) {
      const messages: OutgoingMessage[] = [];
      /** Each message's records' numbers, in order (no second weak map look-up per record). */
      const numbers: Numbered[][] = [];
      let open: (OutgoingMessage & { first: number; last: number; bytes: number }) | undefined;
      let openNumbers: Numbered[] = [];
      /** The first message of the open run, for runs of records numbered before. */
      let openOrigin = -1;
      const close = () => {
        if (open) open.id = `${prefix}-${open.first}-${open.last}`;
      };
      for (let i = 0; i < records.length; i++) {
        const record = records[i]!;
        let line: string | Uint8Array;
        try {
          line = format(record);
        } catch (error) {
          onError(record, error);
          continue;
        }
        let known = numbered.get(record);
        const size = (typeof line === "string" ? utf8Length(line) : line.length) + 1;
        const continues = open !== undefined &&
          (known === undefined
            ? openOrigin === -1 && open.records.length < maxRecords &&
              open.bytes + size <= maxBytes
            : known.message === openOrigin && known.n === open.last + 1);
        if (!continues) {
          close();
          open = { id: "", records: [], lines: [], first: 0, last: -1, bytes: 0 };
          messages.push(open);
          openNumbers = [];
          numbers.push(openNumbers);
          openOrigin = known?.message ?? -1;
        }
        if (known === undefined) {
          known = { n: next++, message: -1 };
          numbered.set(record, known);
        }
        if (open!.records.length === 0) open!.first = known.n;
        open!.last = known.n;
        open!.bytes += size;
        open!.records.push(record);
        open!.lines.push(line);
        openNumbers.push(known);
      }
      close();
      // Records numbered in this call belong to the message that holds them from now on.
      for (const list of numbers) {
        const origin = list[0]!;
        if (origin.message !== -1) continue;
        const first = origin.n;
        for (const known of list) known.message = first;
      }
      return messages;
    },
  };
}
