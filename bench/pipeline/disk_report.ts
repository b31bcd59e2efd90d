/**
 * The "disk_buffer" section of bench/RESULTS.md, written by `deno task bench:pipeline --disk`:
 * the TCP JSON and HTTP ingest pipelines with a disk buffer on their sink beside the same
 * pipelines with the memory buffer, and peak RSS with 1x and 3x N records buffered.
 *
 * @module
 */

import type { Job, Outcome } from "../pipeline.ts";
import {
  formatInt,
  formatMiB,
  loadAverage,
  machineDescription,
  median,
  writeSection,
} from "../report.ts";

/** What the `--disk` run measured. */
export interface DiskRun {
  jobs: readonly Job[];
  outcomes: ReadonlyMap<string, Outcome[]>;
  n: number;
  flood: number;
  runs: number;
  dry: boolean;
  quick: boolean;
  loadBefore: string;
  buffered: { n: Outcome; flood: Outcome };
}

interface Row {
  job: Job;
  rates: number[];
  rate: number;
  rss: number;
  lost: number;
  errors: string[];
}

/** Writes (unless `dry`) and prints the section. */
export function diskReport(run: DiskRun): void {
  const rows = new Map<string, Row>();
  for (const job of run.jobs) {
    const list = run.outcomes.get(job.key) ?? [];
    const ok = list.filter((o) => o.elapsedMs !== undefined && !o.error);
    const rates = ok.map((o) => job.n / (o.elapsedMs! / 1000));
    rows.set(job.key, {
      job,
      rates,
      rate: median(rates),
      rss: median(ok.flatMap((o) => (o.peakRss === undefined ? [] : [o.peakRss]))),
      lost: Math.max(0, ...list.flatMap((o) => (o.check ? [job.n - o.check.distinct] : []))),
      errors: list.flatMap((o) => (o.error ? [o.error] : [])),
    });
  }
  const goal = (memoryKey: string, diskKey: string, name: string) => {
    const memory = rows.get(memoryKey)!;
    const disk = rows.get(diskKey)!;
    const ratio = disk.rate / memory.rate;
    const perRun = disk.rates.map((r, i) =>
      memory.rates[i] ? (r / memory.rates[i]!).toFixed(2) : "?"
    )
      .join(" / ");
    const valid = disk.errors.length === 0 && memory.errors.length === 0 && disk.lost === 0 &&
      memory.lost === 0;
    const missed = disk.rates.filter((r, i) => memory.rates[i] && r / memory.rates[i]! < 0.7)
      .length;
    const status = !valid || !(ratio >= 0.7)
      ? "**not met**"
      : missed
      ? `**met on the median** (missed in ${missed} of ${disk.rates.length} runs)`
      : "**met**";
    return `| ${name}: a disk buffer (fsync: interval, the default) keeps >= 70% of the memory buffer's records/s | ${
      ratio.toFixed(2)
    }x the memory buffer, a cost of ${
      ((1 - ratio) * 100).toFixed(0)
    }% (per run: ${perRun}); peak RSS ${formatMiB(disk.rss)} vs ${
      formatMiB(memory.rss)
    } | ${status} |`;
  };
  const { n: one, flood } = run.buffered;
  const bounded = !one.error && !flood.error && Number.isFinite(one.peakRss ?? NaN) &&
    flood.peakRss! <= 1.5 * one.peakRss!;
  const bufferedCell = (o: Outcome, lines: number) =>
    o.error
      ? `failed: ${o.error}`
      : `${formatInt(lines)} lines: peak RSS ${formatMiB(o.peakRss!)} (${o.note}, appended at ${
        formatInt(lines / (o.elapsedMs! / 1000))
      } records/s)`;
  const table = [
    "| Pipeline | records/s (median) | runs | peak RSS | lost | verdict |",
    "| --- | ---: | ---: | ---: | ---: | --- |",
    ...[...rows.values()].map((r) =>
      `| ${r.job.label}${r.job.key.endsWith("_disk") ? "" : ", memory buffer"} | ${
        formatInt(r.rate)
      } | ${r.rates.map(formatInt).join(" / ")} | ${formatMiB(r.rss)} | ${formatInt(r.lost)} | ${
        r.errors.length ? `failed: ${r.errors[0]}` : r.lost ? "does not count" : "ok"
      } |`
    ),
  ].join("\n");
  const section = `
## Disk buffer: its cost on the ingest pipelines (\`deno task bench:pipeline --disk\`)

${machineDescription()}
Load average (1/5/15 min) before: ${run.loadBefore}; after: ${loadAverage()}. ${
    run.quick ? "**Quick mode: small N, one run; not a result.**" : ""
  }

Workload: the Pipeline section's ${formatInt(run.n)} NDJSON lines, over one TCP connection
(\`parser: json\`) and as HTTP POSTs of 1,000 lines (4 in flight), into a \`file\` sink writing
JSON; once with the memory buffer (the default) and once with \`buffer: { type: disk,
max_bytes: 4GiB }\` (\`fsync: interval\`, every 100 ms: the default policy). The clock runs
from the sender's first write until the output file holds every line; every line is checked.
${run.runs} runs per pipeline, alternating, medians; peak RSS is the agent's VmHWM.
Memory bound: the TCP pipeline into a \`tcp\` sink whose peer is down, so that every record
stays in the disk buffer, with ${formatInt(run.n)} and ${
    formatInt(run.flood)
  } lines; the clock stops when \`/metrics\` counts every line in \`sluice_buffer_records\`.

### Goals

| Goal | Measured in this run | Status |
| --- | --- | --- |
${goal("sluice_tcp_json", "sluice_tcp_json_disk", "TCP JSON ingest")}
${goal("sluice_http", "sluice_http_disk", "HTTP ingest")}
| Memory bounded however much is buffered (peer down, everything on disk) | ${
    bufferedCell(flood, run.flood)
  } vs ${bufferedCell(one, run.n)} | ${bounded ? "**met**" : "**not met**"} |

### Records/s and peak RSS

${table}
`;
  console.log(section);
  if (!run.dry) {
    writeSection("disk_buffer", section);
    console.log("Wrote bench/RESULTS.md (disk_buffer section)");
  }
}
