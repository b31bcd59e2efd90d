import assert from "node:assert/strict";
import {
  BackupJournal,
  BackupJournalError,
  type FileIdentity,
} from "../../../../plugins/sinks/rotating_file/backup_journal.ts";
import { BackupSet } from "../../../../plugins/sinks/rotating_file/retention.ts";
import { WorkDir } from "../../../../plugins/sinks/rotating_file/work_dir.ts";

const JOURNAL = ".app.log.sluice-backups";

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/** A regular file `name` in `dir` holding `text`, and its identity. */
function file(dir: string, name: string, text: string): { name: string; identity: FileIdentity } {
  Deno.writeTextFileSync(`${dir}/${name}`, text);
  return { name, identity: BackupJournal.identityOf(`${dir}/${name}`)! };
}

/** Writes the journal of `app.log` in `dir`, recording `entries`, as a run would. */
function recordOf(dir: string, entries: { name: string; identity: FileIdentity }[]): void {
  const journal = new BackupJournal(`${dir}/app.log`);
  journal.load();
  journal.record(entries, []);
  journal.close();
}

Deno.test("BackupJournal compacts by renaming a whole new record over itself, made in the work directory", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const work = new WorkDir(`${dir}/app.log`);
    const journal = new BackupJournal(`${dir}/app.log`, { work });
    journal.load();
    const kept = file(dir, "app.log.1", "kept");
    const churn = file(dir, "app.log.2", "churn");
    journal.record([kept], []);
    const before = Deno.lstatSync(`${dir}/${JOURNAL}`).ino;
    // Two lines each: past 1,024 lines the journal is compacted.
    let calls = 0;
    while (Deno.lstatSync(`${dir}/${JOURNAL}`).ino === before && calls < 1000) {
      journal.record([churn], [churn.identity]);
      calls++;
    }
    assert.equal(calls, 512, "compacted once past 1,024 lines, replaced by a rename");
    const lines = Deno.readTextFileSync(`${dir}/${JOURNAL}`).split("\n");
    assert.equal(lines.length, 4, "header, two entries, and the final newline");
    assert.match(lines[0]!, /^Sluice rotating_file: the backups of "app\.log" it wrote/);
    // Appending goes on into the new file.
    journal.record([], [churn.identity]);
    journal.close();
    work.close();
    assert.deepEqual(names(dir), [JOURNAL, "app.log.1", "app.log.2"], "no temporary file left");
    const next = new BackupJournal(`${dir}/app.log`);
    assert.ok(next.load());
    assert.ok(next.knows(kept.identity) && !next.knows(churn.identity));
    next.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("BackupJournal: a rewrite that stopped half way leaves the journal as it was, and its temporary file is swept", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const ours = file(dir, "app.log.1", "ours");
    recordOf(dir, [ours]);
    const text = Deno.readTextFileSync(`${dir}/${JOURNAL}`);
    // What a run killed while compacting leaves: the new record half written, not renamed.
    const crashed = new WorkDir(`${dir}/app.log`);
    Deno.writeTextFileSync(crashed.entry("backups-1"), text.slice(0, 20));
    crashed.abandon();
    const next = new BackupJournal(`${dir}/app.log`);
    assert.ok(next.load() && next.knows(ours.identity));
    next.close();
    assert.equal(new WorkDir(`${dir}/app.log`).sweep().length, 1);
    assert.deepEqual(names(dir), [JOURNAL, "app.log.1"]);
    assert.equal(Deno.readTextFileSync(`${dir}/${JOURNAL}`), text);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("BackupSet knows a backup by its identity: one replaced, appended to or touched at its name is foreign, one renamed is still its own", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const live = `${dir}/app.log`;
    const first = new BackupSet(live, "size");
    first.discover();
    for (let i = 5; i >= 1; i--) {
      Deno.writeTextFileSync(live, `backup ${i}\n`);
      first.rotateIn();
    }
    first.close();
    // Later (the file system may give the new file the inode just freed, and the times are
    // to the millisecond): app.log.1 replaced by a file of the same size, app.log.2 appended
    // to, app.log.3 touched,
    // app.log.4 renamed to app.log.7 (the same file), app.log.5 replaced by a link to itself.
    await new Promise((resolve) => setTimeout(resolve, 5));
    Deno.removeSync(`${dir}/app.log.1`);
    Deno.writeTextFileSync(`${dir}/app.log.1`, "backup 1\n");
    Deno.writeTextFileSync(`${dir}/app.log.2`, "more\n", { append: true });
    const touched = new Date(Date.now() - 3_600_000);
    Deno.utimeSync(`${dir}/app.log.3`, touched, touched);
    Deno.renameSync(`${dir}/app.log.4`, `${dir}/app.log.7`);
    Deno.renameSync(`${dir}/app.log.5`, `${dir}/target`);
    Deno.symlinkSync(`${dir}/target`, `${dir}/app.log.5`);
    const foreign: string[] = [];
    const set = new BackupSet(live, "size", {
      onForeign: (path) => foreign.push(path.slice(dir.length + 1)),
    });
    set.discover();
    assert.deepEqual(set.list.map((b) => set.pathOf(b).slice(dir.length + 1)), ["app.log.7"]);
    assert.deepEqual(foreign.sort(), ["app.log.1", "app.log.2", "app.log.3", "app.log.5"]);
    // Retention deletes its own and nothing else.
    for (const old of set.expired(0)) assert.ok(set.remove(old));
    set.close();
    assert.deepEqual(names(dir), [
      JOURNAL,
      "app.log.1",
      "app.log.2",
      "app.log.3",
      "app.log.5",
      "target",
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("BackupSet forgets a backup replaced while it runs: no rename, no deletion, no compression of it", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const live = `${dir}/app.log`;
    const foreign: string[] = [];
    const set = new BackupSet(live, "size", {
      onForeign: (path) => foreign.push(path.slice(dir.length + 1)),
    });
    set.discover();
    Deno.writeTextFileSync(live, "ours\n");
    set.rotateIn();
    Deno.removeSync(`${dir}/app.log.1`);
    Deno.writeTextFileSync(`${dir}/app.log.1`, "theirs\n");
    Deno.writeTextFileSync(live, "ours, later\n");
    set.rotateIn(); // does not move theirs: the new backup goes past it
    assert.equal(Deno.readTextFileSync(`${dir}/app.log.1`), "theirs\n");
    assert.equal(Deno.readTextFileSync(`${dir}/app.log.2`), "ours, later\n");
    assert.deepEqual(set.list.map((b) => set.pathOf(b).slice(dir.length + 1)), ["app.log.2"]);
    Deno.removeSync(`${dir}/app.log.2`);
    Deno.writeTextFileSync(`${dir}/app.log.2`, "theirs too\n");
    const backup = set.list[0]!;
    assert.equal(set.remove(backup), false, "not deleted");
    assert.equal(Deno.readTextFileSync(`${dir}/app.log.2`), "theirs too\n");
    assert.ok(backup.removed && set.list.length === 0);
    assert.deepEqual(foreign, ["app.log.1", "app.log.1", "app.log.2"]);
    set.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("BackupSet after a crash between a rotation's rename and its record: the new backup is left alone, the rest stay its own", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const live = `${dir}/app.log`;
    const first = new BackupSet(live, "size");
    first.discover();
    for (const text of ["one\n", "two\n"]) {
      Deno.writeTextFileSync(live, text);
      first.rotateIn();
    }
    // The third rotation shifts app.log.1 and .2 and renames the live file; the process dies
    // before its line reaches the journal.
    const recorded = Deno.readTextFileSync(`${dir}/${JOURNAL}`);
    Deno.writeTextFileSync(live, "three\n");
    first.rotateIn();
    first.close();
    Deno.writeTextFileSync(`${dir}/${JOURNAL}`, recorded);
    const foreign: string[] = [];
    const next = new BackupSet(live, "size", {
      onForeign: (path) => foreign.push(path.slice(dir.length + 1)),
    });
    next.discover();
    assert.deepEqual(foreign, ["app.log.1"]);
    assert.deepEqual(next.list.map((b) => next.pathOf(b).slice(dir.length + 1)), [
      "app.log.2",
      "app.log.3",
    ]);
    for (const old of next.expired(0)) next.remove(old);
    assert.deepEqual(names(dir), [JOURNAL, "app.log.1"]);
    assert.equal(Deno.readTextFileSync(`${dir}/app.log.1`), "three\n");
    next.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("BackupJournal: a damaged journal vouches for nothing and is rewritten; a file that is not its record is never written to", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const ours = file(dir, "app.log.1", "ours");
    recordOf(dir, [ours]);
    // Torn: the last line is not whole (a power cut), or a line is not one of ours.
    const text = Deno.readTextFileSync(`${dir}/${JOURNAL}`);
    for (const damaged of [text.slice(0, -5), text + "+ 1 2 3\n", ""]) {
      Deno.writeTextFileSync(`${dir}/${JOURNAL}`, damaged);
      const next = new BackupJournal(`${dir}/app.log`);
      assert.equal(next.load(), false);
      assert.ok(!next.knows(ours.identity), "nothing is trusted");
      next.settle([]);
      next.close();
      assert.match(Deno.readTextFileSync(`${dir}/${JOURNAL}`), /^Sluice rotating_file: .*\n$/);
    }
    // Another program's file at the journal's name.
    Deno.writeTextFileSync(`${dir}/${JOURNAL}`, "someone else's\n");
    const errors: unknown[] = [];
    const next = new BackupJournal(`${dir}/app.log`, { onError: (e) => errors.push(e) });
    assert.equal(next.load(), false);
    next.settle([]);
    next.record([ours], []);
    next.close();
    assert.equal(Deno.readTextFileSync(`${dir}/${JOURNAL}`), "someone else's\n");
    assert.match(String(errors[0]), /is not a record of Sluice's, and is left alone/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("BackupSet deletes nothing when the deletion cannot be recorded", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const live = `${dir}/app.log`;
    const errors: unknown[] = [];
    const journal = new BackupJournal(live, { onError: (e) => errors.push(e) });
    const set = new BackupSet(live, "size", { journal });
    set.discover();
    Deno.writeTextFileSync(live, "ours\n");
    set.rotateIn();
    journal.close(); // so that the next line opens the journal again
    // The journal's name now holds a directory of someone else's: no line can be added, and
    // the journal cannot be removed.
    Deno.removeSync(`${dir}/${JOURNAL}`);
    Deno.mkdirSync(`${dir}/${JOURNAL}`);
    Deno.writeTextFileSync(`${dir}/${JOURNAL}/theirs`, "theirs");
    assert.throws(() => set.remove(set.list[0]!), BackupJournalError);
    assert.equal(Deno.readTextFileSync(`${dir}/app.log.1`), "ours\n", "not deleted");
    assert.equal(set.list.length, 1, "still its own, for a later try");
    assert.equal(Deno.readTextFileSync(`${dir}/${JOURNAL}/theirs`), "theirs");
    assert.equal(errors.length, 1);
    set.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("BackupJournal: two sinks of one file (a reload's old and new) that both found none make one journal, which knows the backups of both", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const old = new BackupJournal(`${dir}/app.log`);
    const next = new BackupJournal(`${dir}/app.log`);
    assert.equal(old.load(), false);
    assert.equal(next.load(), false);
    const a = file(dir, "app.log.1", "the old sink's");
    const b = file(dir, "app.log.2", "the new sink's");
    old.record([a], []);
    next.record([b], []);
    old.close();
    next.close();
    const later = new BackupJournal(`${dir}/app.log`);
    assert.ok(later.load());
    assert.ok(later.knows(a.identity) && later.knows(b.identity));
    later.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
