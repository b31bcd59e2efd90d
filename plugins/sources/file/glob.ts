/**
 * File globs for the tail source: `*`, `?`, `[abc]`, `{a,b}` and `**`, matched against
 * absolute paths, and a directory walk that lists the files a set of globs matches.
 *
 * @module
 */

import { isAbsolute, join, resolve } from "node:path";

/** A compiled glob. */
export interface Glob {
  /** The pattern as written. */
  pattern: string;
  /** The directory the walk starts in (the longest prefix without wildcards). */
  base: string;
  /** How many directory levels below `base` can match (`Infinity` with `**`). */
  depth: number;
  /** Matches an absolute path. */
  regex: RegExp;
}

const MAGIC = /[*?[{]/;

/**
 * Compiles a glob resolved against `baseDir`. `*` and `?` never cross `/` and, as in a
 * shell, never match a leading dot; `**` as a whole segment matches any number of
 * directories.
 *
 * @example Match rotated logs but not hidden files
 * ```ts
 * import { compileGlob } from "./glob.ts";
 * import assert from "node:assert/strict";
 * const glob = compileGlob("logs/app.log*", "/srv");
 * assert.ok(glob.base === "/srv/logs" && glob.regex.test("/srv/logs/app.log.1"));
 * assert.ok(!compileGlob("logs/*", "/srv").regex.test("/srv/logs/.tmp"));
 * ```
 */
export function compileGlob(pattern: string, baseDir: string): Glob {
  const absolute = isAbsolute(pattern) ? pattern : resolve(baseDir, pattern);
  const segments = absolute.split("/").filter((s, i) => s !== "" || i === 0);
  let staticCount = 0;
  while (staticCount < segments.length - 1 && !MAGIC.test(segments[staticCount]!)) staticCount++;
  const base = segments.slice(0, staticCount).join("/") || "/";
  const rest = segments.slice(staticCount);
  let source = "^" + escapeRegex(base === "/" ? "" : base);
  let depth = rest.length - 1;
  for (let i = 0; i < rest.length; i++) {
    const segment = rest[i]!;
    if (segment === "**") {
      depth = Infinity;
      // Zero or more directories, none of them hidden.
      source += i === rest.length - 1 ? "/(?!\\.)[^/]*(?:/(?!\\.)[^/]*)*" : "(?:/(?!\\.)[^/]*)*";
      continue;
    }
    source += "/" + segmentSource(segment);
  }
  return { pattern, base, depth, regex: new RegExp(source + "$") };
}

function segmentSource(segment: string): string {
  let out = /^[*?[]/.test(segment) ? "(?!\\.)" : "";
  let braces = 0;
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "[") {
      const close = segment.indexOf("]", i + 2);
      if (close < 0) {
        out += "\\[";
        continue;
      }
      let body = segment.slice(i + 1, close);
      if (body.startsWith("!")) body = "^" + body.slice(1);
      out += "[" + body.replace(/[\\\]]/g, "\\$&") + "]";
      i = close;
    } else if (c === "{") {
      braces++;
      out += "(?:";
    } else if (c === "}" && braces > 0) {
      braces--;
      out += ")";
    } else if (c === "," && braces > 0) out += "|";
    else out += escapeRegex(c);
  }
  return out;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Lists the regular files (following symlinks) that match any of `include` and none of
 * `exclude`. An exclude pattern without `/` is matched against the file name alone.
 * Directories that cannot be read are skipped.
 *
 * @example List the logs of a directory
 * ```ts
 * import { compileGlob, expandGlobs } from "./glob.ts";
 * import assert from "node:assert/strict";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/a.log`, "");
 * Deno.writeTextFileSync(`${dir}/a.log.1.gz`, "");
 * const found = expandGlobs([compileGlob("*.log*", dir)], [compileGlob("*.gz", dir)]);
 * assert.ok(found.length === 1 && found[0]!.endsWith("/a.log"));
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function expandGlobs(include: readonly Glob[], exclude: readonly Glob[] = []): string[] {
  const found = new Set<string>();
  const nameOnly = exclude.filter((g) => !g.pattern.includes("/")).map((g) =>
    new RegExp("^" + segmentSource(g.pattern) + "$")
  );
  const fullPath = exclude.filter((g) => g.pattern.includes("/"));
  const excluded = (path: string) => {
    const name = path.slice(path.lastIndexOf("/") + 1);
    return nameOnly.some((r) => r.test(name)) || fullPath.some((g) => g.regex.test(path));
  };
  for (const glob of include) {
    const walk = (dir: string, level: number) => {
      let entries: Deno.DirEntry[];
      try {
        entries = [...Deno.readDirSync(dir)];
      } catch {
        return;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        let isFile = entry.isFile;
        let isDirectory = entry.isDirectory;
        if (entry.isSymlink) {
          try {
            const info = Deno.statSync(path);
            isFile = info.isFile;
            isDirectory = info.isDirectory;
          } catch {
            continue;
          }
        }
        if (
          isFile && (level === glob.depth || glob.depth === Infinity) && glob.regex.test(path) &&
          !excluded(path)
        ) found.add(path);
        if (isDirectory && level < glob.depth && !entry.isSymlink) walk(path, level + 1);
      }
    };
    if (glob.depth < 0) continue;
    walk(glob.base, 0);
  }
  return [...found].sort();
}
