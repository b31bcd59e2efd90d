/**
 * A simulated file system for the disk buffer's crash tests, after the ALICE paper (Pillai et
 * al., OSDI 2014) and Vector's buffer model (vectordotdev/vector#25639): what a process
 * wrote lives in the page cache until `sync` (file data) or `syncDir` (names); a crash
 * either keeps the page cache (kill -9) or loses what was not synced (power loss), where
 * each 512-byte sector written since the last sync comes back old, new or as garbage (in
 * the bytes written only: powersafe overwrite), and
 * each name created or removed since the last directory sync may or may not have stuck.
 * It can also crash in the middle of any call (a write then lands partly).
 *
 * @module
 */

import type { BufferFile, BufferFs } from "../../../src/pipeline/disk_buffer/buffer_fs.ts";

/** Thrown by the simulated file system when the crash it was armed with happens. */
export class SimulatedCrash extends Error {
  constructor() {
    super("simulated crash");
    this.name = "SimulatedCrash";
  }
}

const SECTOR = 512;

/** A file's bytes: as the page cache has them, and as the disk has them. */
class Inode {
  data = new Uint8Array(0);
  durable = new Uint8Array(0);
}

/** A small seeded generator (mulberry32): the crash outcomes of a run are reproducible. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A one-directory simulated file system (paths are `dir/name`; the directory is implicit). */
export class SimFs implements BufferFs {
  /** Names as the page cache has them. */
  names = new Map<string, Inode>();
  /** Names as the disk has them (after the last `syncDir`). */
  durableNames = new Map<string, Inode>();
  /** Calls left before the armed crash (Infinity: not armed). */
  crashIn = Infinity;
  /** Names whose `open` fails as with EIO (an unreadable segment). */
  readonly unreadable = new Set<string>();
  /** Every mutating call made, for the tests' own checks. */
  calls = 0;
  /**
   * Set once the armed crash happened: the process is dead, every later call throws (even if
   * the buffer catches one error, it cannot do anything more) until `processCrash` or
   * `powerLoss` restarts it.
   */
  dead = false;
  #handles = new Set<SimHandle>();

  constructor(readonly random: () => number) {}

  /** Counts a call and throws when the armed crash is due. */
  step(): void {
    this.alive();
    this.calls++;
    if (--this.crashIn < 0) {
      this.crashIn = Infinity;
      this.dead = true;
      throw new SimulatedCrash();
    }
  }

  /** Throws when the process has crashed. */
  alive(): void {
    if (this.dead) throw new SimulatedCrash();
  }

  mkdirp(_dir: string): void {}

  list(_dir: string): string[] {
    this.alive();
    return [...this.names.keys()];
  }

  open(path: string, create: boolean): BufferFile {
    this.alive();
    const name = baseName(path);
    if (this.unreadable.has(name)) throw new Error(`EIO: input/output error, open '${path}'`);
    let inode = this.names.get(name);
    if (!inode) {
      if (!create) throw new Error(`ENOENT: no such file, open '${path}'`);
      this.step();
      inode = new Inode();
      this.names.set(name, inode);
    }
    const handle = new SimHandle(this, inode);
    this.#handles.add(handle);
    return handle;
  }

  remove(path: string): void {
    this.step();
    if (!this.names.delete(baseName(path))) throw new Error(`ENOENT: remove '${path}'`);
  }

  rename(from: string, to: string): void {
    this.step();
    const inode = this.names.get(baseName(from));
    if (!inode) throw new Error(`ENOENT: rename '${from}'`);
    this.names.delete(baseName(from));
    this.names.set(baseName(to), inode);
  }

  syncDir(_dir: string): void {
    this.step();
    this.durableNames = new Map(this.names);
  }

  /** kill -9: the process's handles are gone; the page cache (and so every write) stays. */
  processCrash(): void {
    this.#closeAll();
  }

  /** Power loss: only what was synced is sure to stay; the rest comes back partly, or as garbage. */
  powerLoss(): void {
    this.#closeAll();
    const random = this.random;
    const names = new Map<string, Inode>();
    for (const [name, inode] of this.durableNames) {
      // Removed or renamed since the last directory sync: the removal may not have stuck.
      if (this.names.get(name) === inode || random() < 0.5) names.set(name, inode);
    }
    for (const [name, inode] of this.names) {
      if (!names.has(name) && this.durableNames.get(name) !== inode && random() < 0.5) {
        names.set(name, inode); // created since the last directory sync: may have stuck
      }
    }
    for (const inode of new Set(names.values())) {
      const now = inode.data, disk = inode.durable;
      let length = disk.length;
      if (now.length !== disk.length) {
        length = Math.min(now.length, disk.length) +
          Math.floor(random() * (Math.abs(now.length - disk.length) + 1));
      }
      const out = new Uint8Array(length);
      for (let at = 0; at < length; at += SECTOR) {
        const end = Math.min(length, at + SECTOR);
        // Each sector written since the last sync comes back old, new or as garbage — but
        // only in the bytes that were written: a write never damages bytes it did not cover
        // (SQLite's "powersafe overwrite", which today's disks and file systems provide).
        const roll = random();
        for (let i = at; i < end; i++) {
          const written = i >= disk.length || i >= now.length || now[i] !== disk[i];
          if (!written) out[i] = disk[i]!;
          else if (roll < 0.1) out[i] = Math.floor(random() * 256);
          else if (roll < 0.55) out[i] = i < disk.length ? disk[i]! : 0;
          else out[i] = i < now.length ? now[i]! : disk[i] ?? 0;
        }
      }
      inode.data = out;
      inode.durable = out.slice();
    }
    this.names = names;
    this.durableNames = new Map(names);
  }

  /** Flips a byte in the page cache and on disk (bit rot, a stray write). */
  corrupt(name: string, offset: number): void {
    const inode = this.names.get(name)!;
    inode.data[offset]! ^= 0x5a;
    inode.durable = inode.data.slice();
  }

  #closeAll(): void {
    this.dead = false;
    for (const handle of this.#handles) handle.closed = true;
    this.#handles.clear();
    this.crashIn = Infinity;
  }

  forget(handle: SimHandle): void {
    this.#handles.delete(handle);
  }
}

class SimHandle implements BufferFile {
  closed = false;
  constructor(readonly fs: SimFs, readonly inode: Inode) {}

  #check(): void {
    this.fs.alive();
    if (this.closed) throw new Error("EBADF: the file is closed (the process crashed)");
  }

  writeAt(offset: number, bytes: Uint8Array): void {
    this.#check();
    const fs = this.fs;
    let length = bytes.length;
    let crash = false;
    try {
      fs.step();
    } catch (error) {
      // A crash in the middle of a write: part of it reached the page cache.
      length = Math.floor(fs.random() * bytes.length);
      crash = true;
      if (length === 0) throw error;
    }
    // (fs.dead is set: nothing after this write happens.)
    const inode = this.inode;
    const end = offset + length;
    if (end > inode.data.length) {
      const grown = new Uint8Array(end);
      grown.set(inode.data);
      inode.data = grown;
    }
    inode.data.set(bytes.subarray(0, length), offset);
    if (crash) throw new SimulatedCrash();
  }

  readAt(offset: number, length: number): Uint8Array {
    this.#check();
    return this.inode.data.slice(offset, offset + length);
  }

  size(): number {
    this.#check();
    return this.inode.data.length;
  }

  truncate(length: number): void {
    this.#check();
    this.fs.step();
    this.inode.data = this.inode.data.slice(0, length);
  }

  sync(): void {
    this.#check();
    this.fs.step();
    this.inode.durable = this.inode.data.slice();
  }

  close(): void {
    if (this.fs.dead) return;
    this.closed = true;
    this.fs.forget(this);
  }
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
