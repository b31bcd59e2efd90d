/**
 * Shared by the comparison scripts: the machine description, medians, a dependency-free SVG
 * bar chart, and replacing one script's section of bench/RESULTS.md without touching the
 * sections the other scripts (or people) wrote.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The bench/ directory. */
export const BENCH_DIR: string = dirname(fileURLToPath(import.meta.url));
/** The repository root. */
export const ROOT: string = dirname(BENCH_DIR);
/** The results file both comparison scripts write. */
export const RESULTS_PATH: string = join(BENCH_DIR, "RESULTS.md");

/** The middle value (mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The 1-, 5- and 15-minute load averages. */
export function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

/** One Markdown paragraph describing the machine, the runtime and the date. */
export function machineDescription(): string {
  let model = "unknown CPU";
  let memory = "unknown";
  try {
    model = /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? model;
    const kb = /MemTotal:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/meminfo"))?.[1];
    if (kb) memory = `${(Number(kb) / 1024 / 1024).toFixed(1)} GiB`;
  } catch {
    // Not Linux: keep "unknown".
  }
  return [
    `Code: ${codeVersion()}.`,
    `Machine: ${navigator.hardwareConcurrency} CPUs (nproc), ${model}, ${memory} RAM, ` +
    `${Deno.build.os} ${Deno.build.arch}.`,
    `Runtime: Deno ${Deno.version.deno} (V8 ${Deno.version.v8}, TypeScript ${Deno.version.typescript}).`,
    `Date: ${new Date().toISOString()}.`,
  ].join(" ");
}

/** The commit measured, and whether the engine or the harness had uncommitted changes. */
export function codeVersion(): string {
  return CODE_VERSION;
}

/** Taken when a benchmark script starts, not when it writes its section minutes later. */
const CODE_VERSION = (() => {
  try {
    const git = (...args: string[]) =>
      new TextDecoder().decode(
        new Deno.Command("git", { args, cwd: ROOT, stdout: "piped", stderr: "null" }).outputSync()
          .stdout,
      ).trim();
    const commit = git("rev-parse", "--short", "HEAD");
    const dirty = git(
      "status",
      "--porcelain",
      "--",
      "src",
      "plugins",
      "mod.ts",
      "bench",
      ":(exclude)bench/RESULTS.md",
      ":(exclude)bench/*.svg",
    );
    return `commit ${commit}${
      dirty ? " plus uncommitted changes in src/, plugins/ or bench/" : ""
    }`;
  } catch {
    return "unknown (no git)";
  }
})();

/**
 * The ratios of runs made in the same round, `a[i] / b[i]`, as "1.20 / 0.95 / …".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { perRun } from "./report.ts";
 *
 * assert.equal(perRun([2, 3], [1, 3]), "2.00 / 1.00");
 * ```
 */
export function perRun(a: readonly number[], b: readonly number[]): string {
  return a.slice(0, b.length).map((x, i) => (x / b[i]!).toFixed(2)).join(" / ");
}

/** Formats an integer with thousands separators. */
export function formatInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a";
}

/** Formats a byte count as MiB with one decimal. */
export function formatMiB(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : "n/a";
}

/** One bar of a chart. */
export interface Bar {
  /** The label left of the bar. */
  label: string;
  /** The bar's length. */
  value: number;
  /** Text right of the bar (the value, formatted). */
  text: string;
  /** Sluice bars are highlighted; "void" bars (lost records) are hatched grey. */
  kind?: "sluice" | "peer" | "void";
}

/** A titled group of bars sharing one scale. */
export interface Panel {
  /** The panel title. */
  title: string;
  /** The bars, top to bottom. */
  bars: Bar[];
  /** `log` draws bar lengths as log10(1 + value), for values spanning orders of magnitude. */
  scale?: "linear" | "log";
}

const COLORS = { sluice: "#1f77b4", peer: "#9aa5b1", void: "#d9d9d9" } as const;

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!,
  );
}

/** Renders panels of horizontal bars as a self-contained SVG document. */
export function barChartSvg(title: string, panels: readonly Panel[]): string {
  const width = 860;
  const labelWidth = 300;
  const textWidth = 190;
  const barArea = width - labelWidth - textWidth - 20;
  const rowHeight = 22;
  const out: string[] = [];
  let y = 34;
  const body: string[] = [];
  for (const panel of panels) {
    body.push(
      `<text x="10" y="${y + 14}" font-weight="bold" font-size="14">${
        escapeXml(panel.title)
      }</text>`,
    );
    y += 24;
    const measure = panel.scale === "log" ? (v: number) => Math.log10(1 + v) : (v: number) => v;
    const max = Math.max(
      ...panel.bars.map((b) => (Number.isFinite(b.value) ? measure(b.value) : 0)),
      1e-9,
    );
    for (const bar of panel.bars) {
      const length = Number.isFinite(bar.value)
        ? Math.max(1, (measure(bar.value) / max) * barArea)
        : 0;
      const kind = bar.kind ?? "peer";
      body.push(
        `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end" font-size="12">${
          escapeXml(bar.label)
        }</text>`,
        `<rect x="${labelWidth}" y="${y + 3}" width="${length.toFixed(1)}" height="${
          rowHeight - 6
        }" fill="${COLORS[kind]}"${
          kind === "void" ? ' stroke="#999" stroke-dasharray="3,2"' : ""
        }/>`,
        `<text x="${(labelWidth + length + 6).toFixed(1)}" y="${y + 15}" font-size="12">${
          escapeXml(bar.text)
        }</text>`,
      );
      y += rowHeight;
    }
    y += 12;
  }
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="22" font-weight="bold" font-size="16">${escapeXml(title)}</text>`,
    ...body,
    `</svg>`,
  );
  return out.join("\n") + "\n";
}

const HEADER = "# Benchmark results\n\n" +
  "Written by `deno task bench:peers`, `deno task bench:pipeline` and `deno task bench:costs` " +
  "(each replaces only its own section). Re-run them to refresh; numbers from a shared machine are noisy, so every comparison " +
  "is made inside one run, as a ratio.\n";

/**
 * Replaces the section between `<!-- name:start -->` and `<!-- name:end -->` of RESULTS.md
 * with `content`, appending the section when it is missing and creating the file when absent.
 */
export function writeSection(name: string, content: string): void {
  let text: string;
  try {
    text = Deno.readTextFileSync(RESULTS_PATH);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    text = HEADER;
  }
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${content.trim()}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i !== -1 && j > i) text = text.slice(0, i) + block + text.slice(j + end.length);
  else text = text.trimEnd() + "\n\n" + block + "\n";
  Deno.writeTextFileSync(RESULTS_PATH, text);
}
