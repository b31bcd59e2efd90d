import assert from "node:assert/strict";
import type { LogRecord } from "../../../src/core/record.ts";
import { DiskBuffer } from "../../../src/pipeline/disk_buffer/disk_buffer.ts";
import { encodeFrame } from "../../../src/pipeline/disk_buffer/frame.ts";
import { runCli } from "../../helpers/sluice_process.ts";

function records(from: number, count: number): LogRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    time: from + i,
    level: 20,
    logger: "app",
    message: `record ${from + i}`,
    fields: { id: from + i },
  }));
}

/** Every file under `dir` with its bytes, to show a check changed nothing. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (at: string) => {
    for (const entry of Deno.readDirSync(at)) {
      const path = `${at}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (entry.isFile) files.set(path, Deno.readFileSync(path).join(","));
      else files.set(path, `-> ${Deno.readLinkSync(path)}`);
    }
  };
  walk(dir);
  return files;
}

const NOW = Date.UTC(2026, 0, 1);
/** The size of each frame below: ids 10 to 39 all have two digits. */
const FRAME = encodeFrame(records(10, 5), NOW).length;

/**
 * A data_dir as `sluice run` leaves it: sink "peer" with six frames of 5 records, three per
 * segment, of which the first two were delivered; sink "a b" (encoded in its directory
 * name) with 5 records.
 */
function writeBuffers(dataDir: string): { peer: DiskBuffer; pending: number; bytes: number } {
  const peer = DiskBuffer.open({
    dir: `${dataDir}/buffers/peer`,
    fsync: "always",
    segmentBytes: 3 * FRAME + 1,
    now: () => NOW,
  });
  for (let i = 0; i < 6; i++) peer.append(records(10 + i * 5, 5));
  assert.equal(peer.read(10, 1 << 20)?.length, 10);
  peer.ack();
  const other = DiskBuffer.open({ dir: `${dataDir}/buffers/a%20b`, fsync: "always" });
  other.append(records(100, 5));
  other.close();
  return { peer, pending: peer.pendingRecords, bytes: peer.pendingBytes };
}

Deno.test("sluice buffer check reports each sink's pending records and bytes, changing nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_buffer_check_" });
  try {
    const { peer, pending, bytes } = writeBuffers(dir);
    peer.close();
    assert.equal(pending, 20);
    const before = snapshot(dir);
    const text = await runCli(["buffer", "check", dir]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      new RegExp(
        `^peer: 20 records pending \\(${bytes.toLocaleString("en-US")} bytes in 2 segments;`,
        "m",
      ),
    );
    assert.match(text.stdout, /oldest appended 2026-01-01T00:00:00\.000Z/);
    assert.match(text.stdout, /^a b: 5 records pending \(\d+ bytes in 1 segment;/m);
    assert.match(text.stdout, /^2 buffers checked: 25 records pending, no damage$/m);

    const json = await runCli(["buffer", "check", "--json", `${dir}/buffers`]);
    assert.equal(json.code, 0, json.stderr);
    const reports = JSON.parse(json.stdout);
    assert.deepEqual(reports.map((r: { sink: string; records: number }) => [r.sink, r.records]), [
      ["a b", 5],
      ["peer", 20],
    ]);
    assert.equal(reports[1].bytes, bytes);
    assert.equal(reports[1].ledger, "ok");

    // One sink's own directory works too.
    const one = await runCli(["buffer", "check", `${dir}/buffers/peer`]);
    assert.match(one.stdout, /^1 buffer checked: 20 records pending, no damage$/m);
    assert.deepEqual(snapshot(dir), before, "checking changed no file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice buffer check names every corrupt region and unreadable segment, and exits 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_buffer_check_bad_" });
  try {
    const { peer } = writeBuffers(dir);
    peer.close();
    const peerDir = `${dir}/buffers/peer`;
    const segments = [...Deno.readDirSync(peerDir)].map((e) => e.name).filter((n) =>
      n.endsWith(".seg")
    ).sort();
    assert.equal(segments.length, 2, `segments: ${segments}`);
    const [first, last] = [segments[0]!, segments[1]!];
    // A flipped byte inside the last segment's second frame; the first segment's third frame
    // (the first one pending: the ledger points at it) torn.
    const bytes = Deno.readFileSync(`${peerDir}/${last}`);
    assert.equal(bytes.length, 3 * FRAME);
    bytes[FRAME + 40]! ^= 0xff;
    Deno.writeFileSync(`${peerDir}/${last}`, bytes);
    const torn = Deno.readFileSync(`${peerDir}/${first}`);
    Deno.writeFileSync(`${peerDir}/${first}`, torn.subarray(0, torn.length - 7));
    // A segment that cannot be opened, and one an earlier run moved aside.
    Deno.symlinkSync(`${dir}/nowhere`, `${peerDir}/99999999999999999999.seg`);
    Deno.writeFileSync(`${peerDir}/00000000000000000050.seg.unreadable`, new Uint8Array(3));
    const before = snapshot(dir);

    const result = await runCli(["buffer", "check", dir]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const out = result.stdout;
    assert.match(
      out,
      new RegExp(`^peer: corrupt: ${FRAME} bytes at offset ${FRAME} of ${last}$`, "m"),
    );
    assert.match(
      out,
      new RegExp(
        `^peer: corrupt: ${FRAME - 7} bytes at offset ${2 * FRAME} of ${first} \\(a torn tail\\)$`,
        "m",
      ),
    );
    assert.match(out, /^peer: unreadable: 99999999999999999999\.seg: .*No such file/m);
    assert.match(out, /^peer: moved aside earlier: 00000000000000000050\.seg\.unreadable/m);
    // 20 were pending; two frames of 5 are damaged.
    assert.match(out, /^peer: 10 records pending/m);
    assert.match(out, /^2 buffers checked: 15 records pending, 3 problem\(s\)$/m);
    assert.deepEqual(snapshot(dir), before, "checking changed no file");

    // The buffer itself agrees when it opens: the same 10 records, the same two regions.
    const reopened = DiskBuffer.open({ dir: peerDir, fsync: "never" });
    assert.equal(reopened.pendingRecords, 10);
    assert.equal(reopened.corruptFrames, 2);
    reopened.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice buffer check: a bad argument is a usage error, a directory without buffers an error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_buffer_check_args_" });
  try {
    const none = await runCli(["buffer", "check"]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /sluice buffer: no directory given/);
    const sub = await runCli(["buffer", "chek", dir]);
    assert.equal(sub.code, 2);
    assert.match(sub.stderr, /unknown subcommand "chek"/);
    const empty = await runCli(["buffer", "check", dir]);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /No disk buffer in ".*": give a data_dir/);
    const missing = await runCli(["buffer", "check", `${dir}/missing`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Cannot read ".*missing"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice buffer check counts a frame whose checksum matches but whose payload is not records", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_buffer_check_payload_" });
  try {
    // What a writer bug would leave: a well-formed frame around a payload of non-records.
    const bad = encodeFrame([{ not: "a record" }] as unknown as LogRecord[], NOW).slice();
    const good = encodeFrame(records(10, 5), NOW).slice();
    const segment = new Uint8Array(bad.length + good.length);
    segment.set(bad);
    segment.set(good, bad.length);
    Deno.mkdirSync(`${dir}/peer`);
    Deno.writeFileSync(`${dir}/peer/00000000000000000001.seg`, segment);
    const result = await runCli(["buffer", "check", `${dir}/peer`]);
    assert.equal(result.code, 1, result.stdout);
    assert.match(
      result.stdout,
      new RegExp(
        `^peer: corrupt: ${bad.length} bytes at offset 0 of 00000000000000000001\\.seg$`,
        "m",
      ),
    );
    assert.match(result.stdout, /^peer: 5 records pending/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
