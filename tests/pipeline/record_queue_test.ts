import assert from "node:assert/strict";
import { RecordQueue } from "../../src/pipeline/record_queue.ts";
import { JsonFieldsRecord, type TextBlock } from "../../src/core/json_fields_record.ts";
import { createRecord } from "../../src/core/record.ts";
import { estimateRecordBytes } from "../../src/pipeline/record_bytes.ts";

// Records whose strings are cuts of a read's text keep the whole text alive: the queue must
// charge each block of text once for its run of records, release it with the run's last
// record, and never count it toward the batch size (ownBytes).

const cutFrom = (block: TextBlock, id: number) =>
  new JsonFieldsRecord(0, 20, "app", "message " + id, `"id":${id}`, block);

Deno.test("RecordQueue: a block of text is charged once per run of records cut from it", () => {
  const queue = new RecordQueue();
  const a = { length: 65_536 };
  const b = { length: 1_000 };
  const records = [cutFrom(a, 1), cutFrom(a, 2), cutFrom(a, 3), cutFrom(b, 4), cutFrom(b, 5)];
  for (const record of records) queue.push(record);
  const own = records.reduce((sum, record) => sum + estimateRecordBytes(record), 0);
  assert.equal(queue.ownBytes, own);
  assert.equal(queue.bytes, own + 65_536 + 1_000 + 5 * 160);
  // The block goes with the last record of its run, not the first.
  queue.dropOldest();
  queue.dropOldest();
  assert.equal(queue.bytes - queue.ownBytes, 65_536 + 1_000 + 3 * 160);
  queue.dropOldest();
  assert.equal(queue.bytes - queue.ownBytes, 1_000 + 2 * 160);
  assert.deepEqual(queue.take().map((r) => r.fields.id), [4, 5]);
  assert.equal(queue.bytes, 0);
});

Deno.test("RecordQueue: one line kept of each read holds every read's text", () => {
  // A sink whose level keeps one line of each 64 KiB read: 100 such records hold 6.4 MiB.
  const queue = new RecordQueue();
  for (let i = 0; i < 100; i++) {
    queue.push(cutFrom({ length: 65_536 }, i));
    queue.push(createRecord({ message: "parsed in full" }));
  }
  assert.ok(queue.bytes >= 100 * 65_536, `charged ${queue.bytes}`);
  assert.ok(queue.ownBytes < 100 * 1_000, `own ${queue.ownBytes}`);
});
