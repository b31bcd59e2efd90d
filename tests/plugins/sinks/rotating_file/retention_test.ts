import assert from "node:assert/strict";
import { BackupJournal } from "../../../../plugins/sinks/rotating_file/backup_journal.ts";
import { BackupSet } from "../../../../plugins/sinks/rotating_file/retention.ts";

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("BackupSet size naming shifts backups like Python and keeps .gz names while shifting", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const live = `${dir}/app.log`;
    const set = new BackupSet(live, "size");
    for (const text of ["a", "b", "c"]) {
      Deno.writeTextFileSync(live, text);
      set.rotateIn();
    }
    const oldest = set.list[2]!;
    Deno.writeFileSync(`${dir}/.tmp`, new Uint8Array([1]));
    set.adoptCompressed(oldest, `${dir}/.tmp`);
    Deno.writeTextFileSync(live, "d");
    set.rotateIn();
    assert.deepEqual(names(dir), ["app.log.1", "app.log.2", "app.log.3", "app.log.4.gz"]);
    assert.equal(Deno.readTextFileSync(`${dir}/app.log.1`), "d");
    assert.equal(Deno.readTextFileSync(`${dir}/app.log.3`), "b");
    for (const old of set.expired(2)) set.remove(old);
    assert.deepEqual(names(dir), ["app.log.1", "app.log.2"]);
    assert.ok(oldest.removed, "a removed backup is flagged for its pending compression");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("BackupSet time naming uses the suffix and never overwrites an existing name", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const live = `${dir}/app.log`;
    const set = new BackupSet(live, "time");
    for (const stamp of ["2026-11-23", "2026-11-24", "2026-11-24", "2026-11-24"]) {
      Deno.writeTextFileSync(live, stamp);
      set.rotateIn(stamp);
    }
    assert.deepEqual(names(dir), [
      "app.log.2026-11-23",
      "app.log.2026-11-24",
      "app.log.2026-11-24.1",
      "app.log.2026-11-24.2",
    ]);
    // Newest first: the later files of a day come before the earlier ones.
    assert.deepEqual(set.list.map((b) => set.pathOf(b).slice(dir.length + 1)), [
      "app.log.2026-11-24.2",
      "app.log.2026-11-24.1",
      "app.log.2026-11-24",
      "app.log.2026-11-23",
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("BackupSet never rotates onto a name it did not discover: a file, a .gz twin or a link", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const live = `${dir}/app.log`;
    const stamp = "2026-11-24";
    const set = new BackupSet(live, "both");
    set.discover();
    // Appearing after discovery: another program's files.
    Deno.writeTextFileSync(`${dir}/app.log.${stamp}.1`, "theirs");
    Deno.writeTextFileSync(`${dir}/app.log.${stamp}.2.gz`, "theirs, compressed");
    Deno.writeTextFileSync(`${dir}/target`, "linked");
    Deno.symlinkSync(`${dir}/target`, `${dir}/app.log.${stamp}.3`);
    Deno.writeTextFileSync(live, "ours");
    set.rotateIn(stamp);
    assert.equal(Deno.readTextFileSync(`${dir}/app.log.${stamp}.4`), "ours");
    assert.equal(Deno.readTextFileSync(`${dir}/app.log.${stamp}.1`), "theirs");
    assert.equal(Deno.readTextFileSync(`${dir}/app.log.${stamp}.2.gz`), "theirs, compressed");
    assert.equal(Deno.readTextFileSync(`${dir}/app.log.${stamp}.3`), "linked");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("BackupSet discovers the backups its journal records, newest first, expires by age, and leaves the rest alone", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const ours = [
      "app.log.2026-11-22.1.gz",
      "app.log.2026-11-22.2",
      "app.log.2026-11-24.1",
      "app.log.2026-11-23.1",
    ];
    const theirs = [
      "app.log.2026-11-21.1", // named like a backup: foreign
      "app.log.2026-11-20", // as Python's handler names one: foreign
      "app.log.1",
      "app.log.notadate",
      "other.log.2026-11-24.1",
    ];
    for (const name of [...ours, ...theirs]) Deno.writeTextFileSync(`${dir}/${name}`, name);
    const old = new Date(Date.now() - 10 * 86_400_000);
    Deno.utimeSync(`${dir}/app.log.2026-11-23.1`, old, old);
    // What an earlier run recorded.
    const earlier = new BackupJournal(`${dir}/app.log`);
    earlier.load();
    earlier.record(
      ours.map((name) => ({ name, identity: BackupJournal.identityOf(`${dir}/${name}`)! })),
      [],
    );
    earlier.close();
    const foreign: string[] = [];
    const set = new BackupSet(`${dir}/app.log`, "both", {
      onForeign: (path) => foreign.push(path.slice(dir.length + 1)),
    });
    assert.deepEqual(set.discover(), []);
    assert.deepEqual(set.list.map((b) => set.pathOf(b).slice(dir.length + 1)), [
      "app.log.2026-11-24.1",
      "app.log.2026-11-23.1",
      "app.log.2026-11-22.2",
      "app.log.2026-11-22.1.gz",
    ]);
    assert.deepEqual(foreign.sort(), ["app.log.2026-11-20", "app.log.2026-11-21.1"]);
    const expired = set.expired(3, Date.now() - 86_400_000);
    assert.deepEqual(expired.map((b) => set.pathOf(b).slice(dir.length + 1)), [
      "app.log.2026-11-22.1.gz",
      "app.log.2026-11-23.1",
    ]);
    set.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("BackupSet.open shares one set between the sinks of a file (a reload's old and new), until the last lets go", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const live = `${dir}/app.log`;
    const old = BackupSet.open(live, "size");
    old.discover();
    Deno.writeTextFileSync(live, "ours\n");
    old.rotateIn();
    const next = BackupSet.open(live, "size");
    assert.equal(next, old, "one list: what either does, the other sees");
    assert.deepEqual(next.discover(), []);
    assert.equal(next.list.length, 1);
    const other = BackupSet.open(live, "time");
    assert.notEqual(other, old, "another naming is another set");
    other.close();
    old.close();
    assert.equal(BackupSet.open(live, "size"), next, "still open for the new sink");
    next.close();
    next.close();
    const later = BackupSet.open(live, "size");
    assert.notEqual(later, next, "closed by the last");
    later.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
