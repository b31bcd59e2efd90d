/**
 * Finding the peer programs tests talk to (python3, rsyslog, promtool …). A test whose peer
 * is missing is skipped with a printed reason — unless the environment variable `CI` is set,
 * in which case it runs and fails, so CI can never pass by skipping.
 *
 * @module
 */

/** A peer program and whether this machine has it. */
export interface Peer {
  /** The command to run it. */
  command: string;
  /** Whether it ran. */
  available: boolean;
  /** Why it is missing and how to install it (empty when available). */
  reason: string;
}

const cache = new Map<string, Peer>();

/**
 * Checks once whether `command args…` runs and exits 0 (for example `python3 -c "import
 * logging.handlers"`); `install` says how to get it.
 */
export function findPeer(command: string, args: readonly string[], install: string): Peer {
  const key = [command, ...args].join("\0");
  const known = cache.get(key);
  if (known) return known;
  let available = false;
  try {
    available = new Deno.Command(command, { args: [...args], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    available = false;
  }
  const peer: Peer = {
    command,
    available,
    reason: available ? "" : `${command} is not available (${install})`,
  };
  cache.set(key, peer);
  return peer;
}

/**
 * For `Deno.test({ ignore })`: `true` (and a printed reason) when the peer is missing and
 * `CI` is not set.
 */
export function skipWithout(peer: Peer): boolean {
  if (peer.available || Deno.env.get("CI")) return false;
  console.warn(`SKIPPED: ${peer.reason}`);
  return true;
}

/** Python 3 with the standard logging handlers (pyenv's or Debian's python3). */
export function python3(): Peer {
  return findPeer(
    "python3",
    ["-c", "import logging.handlers"],
    "install it with: apt-get install -y python3",
  );
}

/**
 * Python 3 with the `cryptography` package (Fernet, MultiFernet, AESGCM): Debian's
 * /usr/bin/python3 with python3-cryptography first, then python3 on PATH.
 */
export function pythonCryptography(): Peer {
  const args = ["-c", "import cryptography.fernet, cryptography.hazmat.primitives.ciphers.aead"];
  const install = "install it with: apt-get install -y python3 python3-cryptography";
  const debian = findPeer("/usr/bin/python3", args, install);
  return debian.available ? debian : findPeer("python3", args, install);
}

/** Prometheus's `promtool` (Debian package `prometheus`), for `promtool check metrics`. */
export function promtool(): Peer {
  return findPeer("promtool", ["--version"], "install it with: apt-get install -y prometheus");
}

/** e2fsprogs' `chattr` (with `lsattr`), which makes a directory immutable even for root. */
export function chattr(): Peer {
  return findPeer("lsattr", ["-V"], "install it with: apt-get install -y e2fsprogs");
}

/**
 * Makes `dir` read-only (`on`) or writable again: a mode change for a normal user, and
 * `chattr +i` for root, whom modes do not stop. Returns whether it worked (`chattr +i` needs
 * ext4 or a similar filesystem).
 */
export function freezeDirectory(dir: string, on: boolean): boolean {
  if (Deno.uid() !== 0) {
    Deno.chmodSync(dir, on ? 0o555 : 0o755);
    return true;
  }
  return new Deno.Command("chattr", { args: [on ? "+i" : "-i", dir] }).outputSync().success;
}

/** For `Deno.test({ ignore })`: as root, {@linkcode skipWithout} `chattr`; otherwise `false`. */
export function skipWithoutFreeze(): boolean {
  return Deno.uid() === 0 && skipWithout(chattr());
}

/** clang with the WebAssembly target and lld (Debian packages `clang` and `lld`). */
export function clangWasm(): Peer {
  return findPeer(
    "sh",
    ["-c", "command -v clang && command -v wasm-ld"],
    "install them with: apt-get install -y clang lld",
  );
}
