import assert from "node:assert/strict";
import { startSluice } from "../helpers/sluice_process.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_reload_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function waitFor(what: string, done: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

const count = (text: string, pattern: RegExp) => text.match(new RegExp(pattern, "g"))?.length ?? 0;

/** The `id` of every JSON line of a file (none when it does not exist). */
async function idsIn(path: string): Promise<number[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).id);
}

const config = (sinks: string[]) =>
  [
    "server: { listen: 127.0.0.1:0 }",
    "sources:",
    "  ingest: { type: http }",
    "sinks:",
    "  app: { type: file, path: app.log, format: json }",
    ...sinks,
    "",
  ].join("\n");

Deno.test("SIGHUP reloads the config while records flow: a bad file keeps the running pipeline, every acknowledged record is written once", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/sluice.yaml`;
    await Deno.writeTextFile(file, config([]));
    const sluice = await startSluice(file, { cwd: dir });
    let stopped = false;
    const refused: string[] = [];
    try {
      // Two senders post batches of 50 numbered records until told to stop.
      let sending = true;
      let next = 0;
      const acked: number[] = [];
      const sender = async () => {
        while (sending) {
          const ids = Array.from({ length: 50 }, () => next++);
          const body = ids.map((id) => JSON.stringify({ message: `m${id}`, id })).join("\n");
          let res: Response;
          try {
            res = await fetch(`${sluice.url}/ingest`, { method: "POST", body: body + "\n" });
          } catch (error) {
            // The server went away: say so in the assertion below, with sluice's stderr,
            // instead of as a dangling rejection that cancels the whole file.
            refused.push(`${error} (stderr: ${sluice.stderr()})`);
            sending = false;
            return;
          }
          const text = await res.text();
          if (res.status === 200) acked.push(...ids);
          else refused.push(`${res.status} ${text}`);
        }
      };
      const senders = [sender(), sender()];
      const reloads = () => count(sluice.stderr(), /SIGHUP: reloaded/);
      await waitFor("records", () => acked.length >= 500);

      // 1. A valid new config: a second sink appears, nothing stops.
      await Deno.writeTextFile(
        file,
        config(["  copy: { type: file, path: copy.log, format: json }"]),
      );
      sluice.signal("SIGHUP");
      await waitFor("the first reload", () => reloads() === 1);
      await waitFor("records in copy.log", async () => (await idsIn(`${dir}/copy.log`)).length > 0);

      // 2. A bad file: said with its position; the running pipeline (with copy) goes on.
      await Deno.writeTextFile(file, config(["  copy: { type: fil, path: copy2.log }"]));
      const copied = (await idsIn(`${dir}/copy.log`)).length;
      sluice.signal("SIGHUP");
      await waitFor("the refused reload", () => /not reloaded/.test(sluice.stderr()));
      assert.match(
        sluice.stderr(),
        new RegExp(
          `SIGHUP: ${file} not reloaded, the running pipeline goes on: ${file}:6:\\d+: ` +
            `sinks\\.copy\\.type: Unknown sink type "fil" \\(did you mean "file"\\?\\)`,
        ),
      );
      await waitFor(
        "more records in copy.log",
        async () => (await idsIn(`${dir}/copy.log`)).length > copied + 200,
      );

      // 3. Fixed: copy moves to copy2.log.
      await Deno.writeTextFile(
        file,
        config(["  copy: { type: file, path: copy2.log, format: json }"]),
      );
      sluice.signal("SIGHUP");
      await waitFor("the second reload", () => reloads() === 2);
      await waitFor(
        "records in copy2.log",
        async () => (await idsIn(`${dir}/copy2.log`)).length > 0,
      );
      const afterReload = acked.length;
      await waitFor("records after the reload", () => acked.length >= afterReload + 500);

      sending = false;
      await Promise.all(senders);
      const result = await sluice.stop("SIGTERM");
      stopped = true;
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(refused, [], "no request was refused across the reloads");
      const written = await idsIn(`${dir}/app.log`);
      assert.equal(written.length, acked.length, "each acknowledged record written once");
      assert.deepEqual([...written].sort((a, b) => a - b), [...acked].sort((a, b) => a - b));
      const copies = [...await idsIn(`${dir}/copy.log`), ...await idsIn(`${dir}/copy2.log`)];
      assert.equal(new Set(copies).size, copies.length, "no record copied twice");
      assert.ok(acked.length > 1000, `${acked.length} records flowed`);
    } catch (error) {
      if (refused.length === 0) throw error;
      throw new Error(`${error}\nrefused: ${refused.join("\n")}`, { cause: error });
    } finally {
      if (!stopped) await sluice.stop("SIGKILL");
    }
  });
});

Deno.test("SIGHUP reload hands a tcp source's port over to the new pipeline", async () => {
  await withTempDir(async (dir) => {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const file = `${dir}/sluice.yaml`;
    const tcpConfig = (extra: string) =>
      [
        "server: { listen: 127.0.0.1:0 }",
        "sources:",
        `  tcp: { type: tcp, address: "127.0.0.1:${port}", parser: json }`,
        "sinks:",
        "  out: { type: file, path: out.log, format: json }",
        extra,
        "",
      ].join("\n");
    await Deno.writeTextFile(file, tcpConfig(""));
    const sluice = await startSluice(file, { cwd: dir });
    let stopped = false;
    const send = async (ids: number[]) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      const lines = ids.map((id) => JSON.stringify({ message: `m${id}`, id }) + "\n").join("");
      await conn.write(new TextEncoder().encode(lines));
      conn.close();
    };
    try {
      await send([0, 1, 2]);
      await waitFor("the first records", async () => (await idsIn(`${dir}/out.log`)).length === 3);
      await Deno.writeTextFile(
        file,
        tcpConfig("  copy: { type: file, path: copy.log, format: json }"),
      );
      sluice.signal("SIGHUP");
      await waitFor("the reload", () => /SIGHUP: reloaded|not reloaded/.test(sluice.stderr()));
      assert.match(sluice.stderr(), /SIGHUP: reloaded/);
      await send([3, 4, 5]);
      await waitFor(
        "records after the reload",
        async () => (await idsIn(`${dir}/copy.log`)).length === 3,
      );
      const result = await sluice.stop("SIGTERM");
      stopped = true;
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(await idsIn(`${dir}/out.log`), [0, 1, 2, 3, 4, 5]);
      assert.deepEqual(await idsIn(`${dir}/copy.log`), [3, 4, 5]);
    } finally {
      if (!stopped) await sluice.stop("SIGKILL");
    }
  });
});
