/**
 * Records that Python's own SocketHandler sends keep Python's call site: a `%`-pattern with
 * `funcName`, `lineno`, `module`, `filename` and `pathname` prints, for a record ingested by
 * the `python` source, what Python's `logging.Formatter` printed for it in the sender.
 */

import assert from "node:assert/strict";
import { freePort, startPipeline, waitFor } from "../../../helpers/net_pipeline.ts";
import { python3, skipWithout } from "../../../helpers/peers.ts";

const PATTERN = "%(name)s %(levelname)-8s %(module)s.%(funcName)s:%(lineno)d %(filename)s " +
  "%(pathname)s [%(message).12s]";

const SENDER = String.raw`
import logging, logging.handlers, sys
port, pattern = int(sys.argv[1]), sys.argv[2]
logger = logging.getLogger("shop.cart")
logger.setLevel(logging.DEBUG)
logger.addHandler(logging.handlers.SocketHandler("127.0.0.1", port))
printed = logging.StreamHandler(sys.stdout)
printed.setFormatter(logging.Formatter(pattern))
logger.addHandler(printed)

def place(order):
    logger.info("placed order %s for ada", order)

class Cart:
    def checkout(self):
        logger.warning("checkout slow: %d ms", 812)

place("A-17")
Cart().checkout()
logging.shutdown()
`;

Deno.test({
  name: "a %-pattern prints Python's own call site for records from Python's SocketHandler",
  ignore: skipWithout(python3()),
  async fn() {
    const dir = await Deno.makeTempDir();
    const port = freePort();
    const pipeline = await startPipeline({
      sources: { py: { type: "python", address: `127.0.0.1:${port}`, protocol: "tcp" } },
      sinks: {
        out: {
          type: "file",
          inputs: ["py"],
          path: `${dir}/out.log`,
          format: { type: "text", pattern: PATTERN },
        },
      },
    });
    try {
      const script = `${dir}/shop.py`;
      await Deno.writeTextFile(script, SENDER);
      const sent = await new Deno.Command(python3().command, {
        args: [script, String(port), PATTERN],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(sent.code, 0, new TextDecoder().decode(sent.stderr));
      const python = new TextDecoder().decode(sent.stdout).trimEnd().split("\n");
      assert.equal(python.length, 2);
      assert.match(
        python[0]!,
        /^shop\.cart INFO {5}shop\.place:12 shop\.py \S+\/shop\.py \[placed order\]$/,
      );
      assert.match(python[1]!, /^shop\.cart WARNING {2}shop\.checkout:16 /);
      await waitFor(
        () => pipeline.metrics.sum("records_in_total", { component: "out" }) >= 2,
        () => "both records at the sink",
      );
      await pipeline.flush();
      assert.deepEqual((await Deno.readTextFile(`${dir}/out.log`)).trimEnd().split("\n"), python);
    } finally {
      await pipeline.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
