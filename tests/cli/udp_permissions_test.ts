// `sluice permissions` for a udp sink through the real CLI: the flags stay narrow (the
// sending socket binds loopback port 0 for a loopback receiver), and `sluice run` delivers
// under exactly those flags.
import assert from "node:assert/strict";
import { runCli, startSluice } from "../helpers/sluice_process.ts";

Deno.test("sluice permissions: a udp sink to a loopback receiver needs no wildcard address, and runs under the printed flags", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_udp_perm_" });
  const receiver = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const port = (receiver.addr as Deno.NetAddr).port;
    await Deno.writeTextFile(`${dir}/in.log`, "first line\n");
    await Deno.writeTextFile(
      `${dir}/sluice.yaml`,
      [
        "data_dir: state",
        "sources:",
        `  files: { type: file, include: ["${dir}/in.log"], parser: text, read_from: beginning }`,
        "sinks:",
        `  out: { type: udp, address: "127.0.0.1:${port}", format: json }`,
        "server: { listen: 127.0.0.1:0 }",
        "",
      ].join("\n"),
    );
    const printed = await runCli(["permissions", "--config", "sluice.yaml"], { cwd: dir });
    assert.equal(printed.code, 0, printed.stderr);
    const flags = printed.stdout.trim().split(" ");
    const net = flags.find((flag) => flag.startsWith("--allow-net="));
    assert.equal(net, `--allow-net=127.0.0.1,127.0.0.1:0,127.0.0.1:${port}`);
    assert.doesNotMatch(printed.stdout, /0\.0\.0\.0|\[::\]/);

    const sluice = await startSluice("sluice.yaml", {
      flags,
      cwd: dir,
      extraArgs: ["--drain-timeout", "500ms"],
    });
    try {
      const [datagram] = await receiver.receive();
      assert.equal(JSON.parse(new TextDecoder().decode(datagram)).message, "first line");
    } finally {
      const { stderr } = await sluice.stop();
      assert.doesNotMatch(stderr, /NotCapable|Requires net access/);
    }
  } finally {
    receiver.close();
    await Deno.remove(dir, { recursive: true });
  }
});
