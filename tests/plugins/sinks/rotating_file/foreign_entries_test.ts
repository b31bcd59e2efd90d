/**
 * rotating_file never deletes what it did not write, through a real `sluice run`: foreign
 * directories named like its temporary files and like a backup survive, are skipped and
 * counted, and rotation goes on so that the live file stays near `max_bytes`; foreign regular
 * files named like its temporary files survive a start, and what a killed run left of its
 * own is removed by the next; foreign regular files named like its backups (`app.log.1`,
 * `app.log.2.gz`, time-rotated names) keep their content and name, are counted, and rotation
 * goes on past them with `backups` files of its own.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startSluice, withConfig, withSluice } from "../../../helpers/sluice_process.ts";
import { metricValue } from "../../../helpers/metric_value.ts";
import { postRecords } from "../../../helpers/post_records.ts";

const MAX_BYTES = 16 * 1024;

/** A `sluice run` config: an http source into a rotating_file sink in `logs/`. */
const sluiceYaml = (options: string) => (dir: string) =>
  `server: { listen: 127.0.0.1:0 }
sources:
  ingest: { type: http }
sinks:
  out: { type: rotating_file, inputs: [ingest], path: ${
    join(dir, "logs", "app.log")
  }, format: json, max_bytes: ${MAX_BYTES}, ${options} }
`;

/** Waits until `/metrics` satisfies `done`, and returns it. */
async function metricsWhen(url: string, done: (metrics: string) => boolean): Promise<string> {
  const end = Date.now() + 10_000;
  for (;;) {
    const metrics = await (await fetch(`${url}/metrics`)).text();
    if (done(metrics)) return metrics;
    if (Date.now() > end) throw new Error(`not reached:\n${metrics}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("rotating_file skips foreign directories named like its backups and temporary files, deletes none, and keeps rotating", async () => {
  const foreign = [
    join("logs", ".app.log.delete-1.tmp"),
    join("logs", ".app.log.compress-1.tmp"),
    join("logs", ".app.log.next-1.tmp"),
    join("logs", "app.log.2"),
  ];
  let metrics = "";
  await withSluice(sluiceYaml("backups: 3"), async (sluice, dir) => {
    await postRecords(sluice.url, 40);
    // Rotation happens as batches are written; wait until the last record is.
    metrics = await metricsWhen(
      sluice.url,
      (text) => metricValue(text, "sluice_records_out_total", { component: "out" }) >= 2000,
    );
    const { stderr } = await sluice.stop();
    assert.equal(stderr.match(/not written by it/g)?.length ?? 0, 1, stderr);
    for (const path of foreign) {
      assert.equal(await Deno.readTextFile(join(dir, path, "precious.txt")), "not sluice's", path);
    }
    const live = (await Deno.stat(join(dir, "logs", "app.log"))).size;
    console.log(`live file ${live} bytes (max_bytes ${MAX_BYTES})`);
    assert.ok(live <= 2 * MAX_BYTES, `live file is ${live} bytes, ${live / MAX_BYTES}x max_bytes`);
  }, {
    async prepare(dir) {
      for (const path of foreign) {
        await Deno.mkdir(join(dir, path), { recursive: true });
        await Deno.writeTextFile(join(dir, path, "precious.txt"), "not sluice's");
      }
    },
  });
  assert.ok(metricValue(metrics, "sluice_rotations_total") >= 10);
  assert.ok(metricValue(metrics, "sluice_files_skipped_total") >= 4);
  assert.equal(metricValue(metrics, "sluice_file_errors_total"), 0);
});

Deno.test("rotating_file leaves foreign regular files named like its temporary files alone, and the next start removes what a killed run left", async () => {
  // Regular files (and a directory shaped like a work directory, without its marker) that
  // another program wrote, named as rotating_file names its temporary files.
  const foreign: Record<string, string> = {
    ".app.log.next-1.tmp": "next",
    ".app.log.compress-1.tmp": "compress",
    ".app.log.delete-1.tmp": "delete",
    ".app.log.sluice-0123456789abcdef.tmp": "a file",
    ".app.log.sluice-fedcba9876543210.tmp/next-1": "in a directory",
    ".app.log.sluice-fedcba9876543210.tmp/delete-1/0": "in a directory",
  };
  await withConfig(sluiceYaml("backups: 2, compress: gzip"), async (config, dir) => {
    const logs = join(dir, "logs");
    for (const [name, text] of Object.entries(foreign)) {
      await Deno.mkdir(join(logs, name, ".."), { recursive: true });
      await Deno.writeTextFile(join(logs, name), text);
    }
    const foreignTop = new Set(Object.keys(foreign).map((name) => name.split("/")[0]!));
    // Its hidden entries, but the record of its backups (which stays).
    const own = () =>
      [...Deno.readDirSync(logs)].map((e) => e.name).filter((name) =>
        name.startsWith(".") && !foreignTop.has(name) && name !== ".app.log.sluice-backups"
      );
    // A run killed while it rotates, deletes and compresses leaves its hidden entries.
    const first = await startSluice(config);
    await postRecords(first.url, 40);
    await metricsWhen(
      first.url,
      (metrics) =>
        metricValue(metrics, "sluice_records_out_total", { component: "out" }) >= 2000 &&
        metricValue(metrics, "sluice_files_compressed_total") >= 2,
    );
    const killed = await first.stop("SIGKILL");
    assert.notEqual(killed.code, 0);
    const left = own();
    const inside = (name: string) =>
      Deno.lstatSync(join(logs, name)).isDirectory
        ? `${name}/{${[...Deno.readDirSync(join(logs, name))].map((e) => e.name).join(",")}}`
        : name;
    console.log(`a killed run left ${left.map(inside).join(", ")}`);
    assert.ok(left.length > 0, "a killed run leaves its hidden entries");
    // The next start removes them, and a clean stop leaves none of its own.
    const second = await startSluice(config);
    await postRecords(second.url, 40);
    await metricsWhen(
      second.url,
      (metrics) => metricValue(metrics, "sluice_records_out_total", { component: "out" }) >= 2000,
    );
    const result = await second.stop();
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(own(), [], "no hidden entry of its own after a clean stop");
    for (const [name, text] of Object.entries(foreign)) {
      assert.equal(await Deno.readTextFile(join(logs, name)), text, `${name} was kept`);
    }
  });
});

/** Writes the foreign files (name to content) into `logs/`, all dated a day ago. */
async function placeForeign(dir: string, foreign: Record<string, string>): Promise<void> {
  await Deno.mkdir(join(dir, "logs"), { recursive: true });
  const old = new Date(Date.now() - 86_400_000);
  for (const [name, text] of Object.entries(foreign)) {
    await Deno.writeTextFile(join(dir, "logs", name), text);
    await Deno.utime(join(dir, "logs", name), old, old);
  }
}

/**
 * Runs sluice with `foreign` in place, posts 40 requests (about 13 rotations), stops it and
 * checks that every foreign file is intact, that it was counted and said once, that the live
 * file stayed near max_bytes, and that exactly `backups` files of its own naming (`own`) are
 * left besides the foreign ones.
 */
async function checkForeignKept(
  options: string,
  foreign: Record<string, string>,
  own: RegExp,
  backups: number,
): Promise<void> {
  let metrics = "";
  await withSluice(sluiceYaml(options), async (sluice, dir) => {
    await postRecords(sluice.url, 40);
    metrics = await metricsWhen(
      sluice.url,
      (text) => metricValue(text, "sluice_records_out_total", { component: "out" }) >= 2000,
    );
    const { stderr } = await sluice.stop();
    const logs = join(dir, "logs");
    const names = [...Deno.readDirSync(logs)].map((e) => e.name).sort();
    console.log(`left: ${names.join(", ")}`);
    for (const [name, text] of Object.entries(foreign)) {
      const kept = await Deno.readTextFile(join(logs, name)).catch((e) => `${e}`);
      assert.ok(kept === text, `${name} was not kept: now ${JSON.stringify(kept.slice(0, 60))}`);
    }
    assert.equal(stderr.match(/not written by it/g)?.length ?? 0, 1, stderr);
    assert.match(stderr, new RegExp(`${Object.keys(foreign).length} entries named like`), stderr);
    const ours = names.filter((name) => !(name in foreign) && own.test(name));
    assert.equal(ours.length, backups, `own backups: ${ours.join(", ")}`);
    const live = (await Deno.stat(join(logs, "app.log"))).size;
    console.log(`live file ${live} bytes (max_bytes ${MAX_BYTES})`);
    assert.ok(live <= 2 * MAX_BYTES, `live file is ${live} bytes, ${live / MAX_BYTES}x max_bytes`);
  }, { prepare: (dir) => placeForeign(dir, foreign) });
  console.log(
    `rotations ${metricValue(metrics, "sluice_rotations_total")}, skipped ${
      metricValue(metrics, "sluice_files_skipped_total")
    }, deleted ${metricValue(metrics, "sluice_files_deleted_total")}`,
  );
  assert.ok(metricValue(metrics, "sluice_rotations_total") >= 10);
  assert.ok(
    metricValue(metrics, "sluice_files_skipped_total") >= Object.keys(foreign).length,
    "each foreign file is counted",
  );
  assert.equal(metricValue(metrics, "sluice_file_errors_total"), 0);
}

Deno.test("rotating_file keeps foreign regular files named like its size backups, deletes and renames none of them, and keeps rotating", async () => {
  await checkForeignKept(
    "backups: 3",
    {
      "app.log.1": "theirs, named like the newest backup\n",
      "app.log.2.gz": "theirs, named like a compressed backup\n",
      "app.log.5": "theirs, named like the oldest backup\n",
    },
    /^app\.log\.\d+(\.gz)?$/,
    3,
  );
});

Deno.test("rotating_file keeps foreign regular files named like its time-rotated and compressed backups", async () => {
  // Size rotation within the day, named app.log.<UTC date>.<n>; gzip compression.
  const day = (offset: number) =>
    new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  await checkForeignKept(
    "backups: 3, when: midnight, utc: true, compress: gzip",
    {
      [`app.log.${day(0)}.1`]: "theirs, named like today's first backup\n",
      [`app.log.${day(0)}.2.gz`]: "theirs, named like today's second backup, compressed\n",
      [`app.log.${day(-1)}.1`]: "theirs, named like yesterday's backup\n",
      [`app.log.${day(-1)}`]: "theirs, named as Python's handler names yesterday's backup\n",
    },
    /^app\.log\.\d{4}-\d{2}-\d{2}(\.\d+)?(\.gz)?$/,
    3,
  );
});

Deno.test("rotating_file keeps the record of its backups across SIGHUP reloads while records flow: the next start knows every backup it wrote", async () => {
  await withConfig(sluiceYaml("backups: 4, compress: gzip"), async (config, dir) => {
    const logs = join(dir, "logs");
    const first = await startSluice(config);
    const posting = postRecords(first.url, 60);
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 100));
      first.signal("SIGHUP");
    }
    await posting; // accepted: the stop drains them (after a reload the counters start anew)
    const stopped = await first.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stderr, /SIGHUP: reloaded/);
    assert.doesNotMatch(
      stopped.stderr,
      /not written by it|Cannot (record|rotate|compress|delete)/,
      stopped.stderr,
    );
    const backups = () =>
      [...Deno.readDirSync(logs)].map((e) => e.name).filter((n) => /^app\.log\.\d+/.test(n));
    const before = backups().length;
    assert.ok(before >= 4, `${before} backups`);
    // The next start knows them all: retention brings them back to 4, nothing is foreign.
    const second = await startSluice(config);
    await postRecords(second.url, 20);
    await metricsWhen(
      second.url,
      (metrics) => metricValue(metrics, "sluice_records_out_total", { component: "out" }) >= 1000,
    );
    const metrics = await (await fetch(`${second.url}/metrics`)).text();
    const result = await second.stop();
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(
      result.stderr,
      /not written by it|Cannot (record|rotate|compress|delete)/,
      result.stderr,
    );
    assert.equal(metricValue(metrics, "sluice_files_skipped_total"), 0);
    assert.equal(backups().length, 4, backups().join(", "));
  });
});
