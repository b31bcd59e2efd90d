/**
 * A `%`-style pattern prints what Python's own `logging.Formatter` prints: the same records go
 * through Sluice's text formatter and through python3, in the same non-UTC time zone, and the
 * lines are compared whole (the time is fixed, so even its digits agree).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parseConfigText } from "../../../../src/config/load.ts";
import { ConfigError } from "../../../../src/config/config_error.ts";

const fixtures = fileURLToPath(new URL("../../../fixtures/python_format/", import.meta.url));
const WINTER = Date.UTC(2024, 10, 17, 15, 15, 30, 123); // 2024-11-17 10:15:30,123 in New York
const SUMMER = Date.UTC(2024, 6, 4, 3, 5, 9, 7); // a July night: EDT, a single-digit msecs
const CALLER = {
  file: "/srv/shop/cart.ts",
  line: 42,
  column: 7,
  function: "checkout",
  module: "cart",
};

const cases = [
  {
    pattern: "%(asctime)s - %(name)s - %(levelname)s - %(message)s",
    records: [5, 10, 20, 25, 30, 40, 50].map((level) => ({
      time: WINTER,
      level,
      logger: "__main__",
      message: `level ${level}`,
    })).concat([{ time: SUMMER, level: 20, logger: "", message: "root logger" }]),
  },
  {
    pattern:
      "%(asctime)s.%(msecs)03d %(levelname)-8s %(name)s:%(lineno)d %(funcName)s() %(message).20s",
    datefmt: "%Y-%m-%d %H:%M:%S",
    records: [
      { time: WINTER, level: 30, logger: "shop", message: "a message that is longer than twenty" },
      { time: SUMMER, level: 40, logger: "shop", message: "short", caller: CALLER },
    ],
  },
  {
    pattern:
      "%(created)f %(created)s %(msecs)d %(msecs)s %(relativeCreated)d %(process)d %(processName)s " +
      "%(thread)s %(threadName)s %(levelno)02d %(pathname)s %(filename)s %(module)s",
    records: [{ time: WINTER, level: 20 }, { time: SUMMER, level: 10, caller: CALLER }],
  },
  {
    pattern: "%(asctime)s - [%(request_id)s] - %(levelname)s - %(message)s",
    defaults: { request_id: "NO_REQUEST" },
    records: [
      { time: WINTER, message: "Processing request", fields: { request_id: "REQ123" } },
      { time: WINTER, message: "outside any request" },
    ],
  },
  {
    pattern: "%(asctime)s|%(levelname)8s|%(name)-10s|%(message)+12s 100%% {braces} %(levelno)x",
    datefmt: "%a %d %b %Y %I:%M:%S %p %z %Z %j %U %W %e %y %B %A %H%%",
    records: [
      { time: WINTER, level: 50, logger: "db", message: "héllo" },
      { time: SUMMER, level: 30, logger: "db.pool", message: "x" },
    ],
  },
  {
    pattern: "%(user)s paid %(amount).1f (%(amount)s) ok=%(ok)s none=%(none)s %(tags)s %(meta)r",
    records: [{
      time: WINTER,
      fields: {
        user: "ada",
        amount: 12.25,
        ok: true,
        none: null,
        tags: ["a", 1],
        meta: { k: "v" },
      },
    }],
  },
];

async function run(command: string, args: string[], input: string): Promise<string> {
  const child = new Deno.Command(command, {
    args,
    env: { TZ: "America/New_York" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `${command} failed: ${err}`);
  return new TextDecoder().decode(stdout);
}

Deno.test("%-style patterns print exactly what Python's logging.Formatter prints", async () => {
  const sluice = JSON.parse(
    await run(Deno.execPath(), ["run", "-A", fixtures + "sluice_side.ts"], JSON.stringify(cases)),
  ) as { pid: number; origin: number; lines: string[][] };
  const python = JSON.parse(
    await run(
      "python3",
      [fixtures + "python_side.py"],
      JSON.stringify({ cases, pid: sluice.pid, origin: sluice.origin }),
    ),
  ) as string[][];
  assert.equal(sluice.lines.length, cases.length);
  for (let i = 0; i < cases.length; i++) {
    assert.deepEqual(sluice.lines[i], python[i], `pattern ${cases[i]!.pattern}`);
  }
  // Guard against two programs agreeing on nothing useful: the seed's line, as its slide shows it.
  assert.equal(sluice.lines[0]![2], "2024-11-17 10:15:30,123 - __main__ - INFO - level 20");
  assert.equal(sluice.lines[0]![4], "2024-11-17 10:15:30,123 - __main__ - WARNING - level 30");
});

Deno.test("sluice check reports a misspelt placeholder, a bad placeholder and a bad datefmt", async () => {
  const yaml = `sources:
  app: { type: logger }
sinks:
  out:
    type: console
    format:
      type: text
      pattern: "%(asctime)s %(levelnam)s %(user_id)s %(message)"
      datefmt: "%Y-%Q"
`;
  const error = await parseConfigText(yaml, "bad.yaml").then(() => undefined, (e) => e);
  assert.ok(error instanceof ConfigError, String(error));
  const text = error.message;
  assert.match(
    text,
    /bad\.yaml:8:\d+: sinks\.out\.format\.pattern: Unknown placeholder "%\(levelnam\)" \(did you mean "%\(levelname\)"\?/,
  );
  assert.match(text, /Invalid placeholder at "%\(message\)"/);
  assert.match(text, /sinks\.out\.format\.datefmt: Unknown strftime directive "%Q"/);
  assert.doesNotMatch(text, /user_id/, "a field name is not a typo");
});

Deno.test("a placeholder listed in defaults is not reported, and braces take defaults too", async () => {
  const { config } = await parseConfigText(
    `sources:
  app: { type: logger }
sinks:
  out:
    type: console
    format: { type: text, pattern: "[{request_id}] %(levelnam)s", defaults: { levelnam: x } }
`,
    "ok.yaml",
  );
  assert.ok(config.sinks.out);
});
