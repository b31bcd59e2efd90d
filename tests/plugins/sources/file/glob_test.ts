import assert from "node:assert/strict";
import { compileGlob, expandGlobs } from "../../../../plugins/sources/file/glob.ts";

Deno.test("compileGlob: *, ?, [..], {a,b} and ** match like a shell, never across / or a leading dot", () => {
  const m = (pattern: string, path: string) => compileGlob(pattern, "/base").regex.test(path);
  assert.ok(m("logs/*.log", "/base/logs/app.log"));
  assert.ok(!m("logs/*.log", "/base/logs/sub/app.log"));
  assert.ok(!m("logs/*.log", "/base/logs/.hidden.log"));
  assert.ok(m("logs/app.log.?", "/base/logs/app.log.1"));
  assert.ok(!m("logs/app.log.?", "/base/logs/app.log.10"));
  assert.ok(m("logs/app.[0-9]", "/base/logs/app.7"));
  assert.ok(!m("logs/app.[!0-9]", "/base/logs/app.7"));
  assert.ok(m("logs/{api,web}.log", "/base/logs/web.log"));
  assert.ok(!m("logs/{api,web}.log", "/base/logs/db.log"));
  assert.ok(m("logs/**/*.log", "/base/logs/a.log"));
  assert.ok(m("logs/**/*.log", "/base/logs/x/y/a.log"));
  assert.ok(!m("logs/**/*.log", "/base/logs/.x/a.log"));
  assert.ok(m("/abs/path/a+b(1).log", "/abs/path/a+b(1).log"), "regex characters are literal");
  assert.equal(compileGlob("logs/*.log", "/base").base, "/base/logs");
  assert.equal(compileGlob("/var/log/**", "/base").depth, Infinity);
});

Deno.test("expandGlobs lists matching files, follows symlinks and applies excludes by name or path", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/logs/old`, { recursive: true });
    for (const name of ["a.log", "a.log.1", "a.log.2.gz", "b.txt", "old/c.log"]) {
      Deno.writeTextFileSync(`${dir}/logs/${name}`, "");
    }
    Deno.symlinkSync(`${dir}/logs/b.txt`, `${dir}/logs/link.log`);
    const found = expandGlobs(
      [compileGlob("logs/**/*.log*", dir)],
      [compileGlob("*.gz", dir), compileGlob("logs/old/*", dir)],
    );
    assert.deepEqual(found.map((p) => p.slice(dir.length)), [
      "/logs/a.log",
      "/logs/a.log.1",
      "/logs/link.log",
    ]);
    assert.deepEqual(expandGlobs([compileGlob("missing/*.log", dir)]), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
