import assert from "node:assert/strict";
import { DiskBuffer } from "../../../src/pipeline/disk_buffer/disk_buffer.ts";
import type { LogRecord } from "../../../src/core/record.ts";

const record = (i: number): LogRecord => ({
  time: 1_764_000_000_000 + i,
  level: 30,
  logger: "app",
  message: `record ${i}`,
  fields: { i },
});

Deno.test("disk buffer: appends go on during a background sync, and every record is read back after a restart", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Small segments: the appends during the sync roll over to new ones.
    const buffer = DiskBuffer.open({ dir, fsync: "interval", segmentBytes: 4096 });
    for (let i = 0; i < 100; i++) buffer.append([record(i)]);
    const syncing = buffer.syncInBackground();
    for (let i = 100; i < 200; i++) buffer.append([record(i)]);
    await syncing;
    await buffer.syncInBackground();
    // No close(): the next open finds what a killed run left.
    const again = DiskBuffer.open({ dir, fsync: "interval" });
    assert.equal(again.pendingRecords, 200);
    const read: LogRecord[] = [];
    for (let batch; (batch = again.read(1000, 1 << 20)) !== undefined;) {
      read.push(...batch);
      again.ack();
    }
    assert.deepEqual(
      read.map((r) => r.message),
      Array.from({ length: 200 }, (_, i) => `record ${i}`),
    );
    again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("disk buffer: closing during a background sync neither throws nor loses the records", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const buffer = DiskBuffer.open({ dir, fsync: "interval" });
    buffer.append([record(1), record(2)]);
    const syncing = buffer.syncInBackground();
    buffer.close(); // syncs synchronously, then closes the files the background sync holds
    await syncing;
    const again = DiskBuffer.open({ dir, fsync: "interval" });
    assert.deepEqual(again.read(10, 1 << 20)?.map((r) => r.message), ["record 1", "record 2"]);
    again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
