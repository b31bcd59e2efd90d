/**
 * Every example in examples/ runs as a real program, from the repository root as the README
 * says (`deno run -A examples/NN_name/main.ts`), and prints what its slide shows. Each
 * example has a check here; an example without one fails the test.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { DENO_JSON } from "../helpers/sluice_process.ts";
import { python3, pythonCryptography } from "../helpers/peers.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TIME = String.raw`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function runExample(name: string, args: string[] = []): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", `--config=${DENO_JSON}`, "-A", `examples/${name}/main.ts`, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** The lines of stdout with the leading Python time (`2024-11-17 10:15:30,123 - `) removed. */
function untimed(stdout: string): string[] {
  return stdout.trimEnd().split("\n").map((line) => {
    assert.match(line, new RegExp(`^${TIME} - `), line);
    return line.slice(26);
  });
}

/** Python's peers: present, or skipped with a reason (and required under CI). */
function havePython(peer: { available: boolean; reason: string }): boolean {
  if (peer.available) return true;
  assert.ok(!Deno.env.get("CI"), peer.reason);
  console.warn(`SKIPPED the Python part: ${peer.reason}`);
  return false;
}

/** Local date as `%Y-%m-%d`. */
function localDate(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

const checks: Record<string, { args?: string[]; check(run: Run): void }> = {
  "01_basic_config": {
    check({ stdout }) {
      assert.deepEqual(untimed(stdout), [
        "__main__ - INFO - Info message - confirmation that things are working",
        "__main__ - WARNING - Warning message - something unexpected happened",
        "__main__ - ERROR - Error message - serious problem",
        "__main__ - CRITICAL - Critical message - program may not be able to continue",
      ]);
    },
  },
  "02_file_and_console": {
    check({ stdout }) {
      const lines = stdout.trimEnd().split("\n");
      assert.deepEqual(lines.slice(0, 3), [
        "DEBUG - Debug message - console only",
        "INFO - Info message - both console and file",
        "ERROR - Error message - both console and file",
      ]);
      assert.match(lines[3]!, /^--- .*\/application\.log:$/);
      assert.deepEqual(untimed(lines.slice(4).join("\n")), [
        "dual_logger - INFO - Info message - both console and file",
        "dual_logger - ERROR - Error message - both console and file",
      ]);
    },
  },
  "03_rotating_file": {
    check({ stdout }) {
      // 95-byte lines, 1,077 to a 100 KiB file: the live file and five backups remain.
      const detail = "Some detailed information that takes up space";
      assert.deepEqual(stdout.trimEnd().split("\n"), [
        `rotating_log.log      28025 bytes, from "Log entry 9705: ${detail}"`,
        `rotating_log.log.1   102315 bytes, from "Log entry 8628: ${detail}"`,
        `rotating_log.log.2   102315 bytes, from "Log entry 7551: ${detail}"`,
        `rotating_log.log.3   102315 bytes, from "Log entry 6474: ${detail}"`,
        `rotating_log.log.4   102315 bytes, from "Log entry 5397: ${detail}"`,
        `rotating_log.log.5   102315 bytes, from "Log entry 4320: ${detail}"`,
      ]);
    },
  },
  "04_timed_rotation": {
    check({ stdout }) {
      const lines = stdout.trimEnd().split("\n");
      // The file is named after the day it covers: yesterday (a run across midnight aside).
      const days = [1, 2].map((n) =>
        `--- timed_rotating.log.${localDate(Date.now() - n * 86_400_000)}`
      );
      assert.ok(lines[0] === days[0] || lines[0] === days[1], lines[0]);
      assert.equal(lines[3], "--- timed_rotating.log");
      assert.deepEqual(untimed([lines[1], lines[2], lines[4], lines[5]].join("\n")), [
        "timed_rotating_logger - INFO - Application started",
        "timed_rotating_logger - WARNING - System resources running low",
        "timed_rotating_logger - INFO - Application started",
        "timed_rotating_logger - ERROR - Database connection failed",
      ]);
    },
  },
  "05_custom_handler": {
    check({ stdout }) {
      assert.deepEqual(stdout.trimEnd().split("\n"), [
        "Database rows:",
        String
          .raw`  {"level":20,"logger":"checkout","message":"Order placed","fields":"{\"order_id\":\"A-1001\"}"}`,
        String
          .raw`  {"level":40,"logger":"checkout","message":"Payment declined","fields":"{\"order_id\":\"A-1002\"}"}`,
        "External service received:",
        '  {"level":"INFO","logger":"checkout","message":"Order placed","order_id":"A-1001","module":"main"}',
        '  {"level":"ERROR","logger":"checkout","message":"Payment declined","order_id":"A-1002","module":"main"}',
      ]);
    },
  },
  "06_json_format": {
    check({ stdout }) {
      const lines = stdout.trimEnd().split("\n");
      assert.equal(lines[0], "--- application.json.log");
      const login = JSON.parse(lines[1]!);
      assert.match(login.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      assert.deepEqual({ ...login, timestamp: "t" }, {
        timestamp: "t",
        level: "INFO",
        logger: "json_logger",
        message: "User login successful",
        caller: { file: "main.ts", line: 46, column: 10, function: "login", module: "main" },
        user_id: "12345",
        ip_address: "192.168.1.1",
      });
      const failed = JSON.parse(lines[2]!);
      assert.equal(failed.level, "ERROR");
      assert.equal(failed.caller.function, "<module>");
      assert.equal(failed.error.name, "SyntaxError");
      assert.equal(lines[3], "--- application.ecs.log");
      const ecs = JSON.parse(lines[4]!);
      assert.equal(ecs["log.level"], "info");
      assert.equal(ecs["service.name"], "login-service");
      assert.equal(ecs["log.origin.function"], "login");
      assert.deepEqual(ecs.fields, { user_id: "12345", ip_address: "192.168.1.1" });
      assert.equal(JSON.parse(lines[5]!)["error.type"], "SyntaxError");
    },
  },
  "07_network_logging": {
    check({ stdout }) {
      const python = havePython(python3());
      const expected = [
        "Received over TCP: System startup completed",
        "Received over TCP: Connection failed (Error: Connection failed)",
        "Received over UDP: System startup completed",
        "Received over UDP: Connection failed (Error: Connection failed)",
        ...python
          ? [
            "Received over Python SocketHandler: System startup completed",
            "Received over Python SocketHandler: Connection failed (ZeroDivisionError: division by zero)",
          ]
          : ["python3 not found: the SocketHandler part is skipped"],
        "--- network_fallback.log:",
        "ERROR - Connection failed",
        "Error: Connection failed",
      ];
      const lines = stdout.trimEnd().split("\n");
      assert.deepEqual(lines.slice(0, expected.length), expected);
      assert.match(
        lines[expected.length]!,
        /^ {4}at .*examples\/07_network_logging\/main\.ts:\d+:\d+$/,
      );
    },
  },
  "08_context": {
    check({ stdout }) {
      assert.deepEqual(untimed(stdout), [
        "[NO_REQUEST] - INFO - Server ready",
        '[REQ123] - INFO - Processing request with data: {"user":"john","action":"login"}',
        '[REQ123] - INFO - Processing subtask: {"user":"john","action":"login"}',
        '[REQ124] - INFO - Processing request with data: {"user":"ada","action":"pay"}',
        '[REQ125] - INFO - Processing request with data: {"user":"bob","action":"logout"}',
        '[REQ124] - INFO - Processing subtask: {"user":"ada","action":"pay"}',
        '[REQ125] - INFO - Processing subtask: {"user":"bob","action":"logout"}',
      ]);
    },
  },
  "09_async_logging": {
    check({ stdout, stderr }) {
      const lines = stdout.trimEnd().split("\n");
      assert.match(lines[0]!, /^100 log calls, none awaited: (under 0\.1|\d+\.\d\d) ms each$/);
      assert.equal(lines[1], "file: 100 written, 0 dropped");
      const [, delivered, dropped, received] = lines[2]!.match(
        /^slow_service: (\d+) delivered, (\d+) dropped \(queue_full\), (\d+) received$/,
      )!.map(Number);
      assert.equal(delivered! + dropped!, 100, "every record delivered or counted as dropped");
      assert.ok(dropped! > 0, "a burst of 100 overflows a queue of 20");
      assert.equal(received, delivered);
      assert.match(stderr, /Sink "slow_service" is dropping records \(queue_full/);
      assert.match(
        stderr,
        new RegExp(`Records dropped so far: sink "slow_service" ${dropped} queue_full`),
      );
    },
  },
  "10_encryption": {
    check({ stdout }) {
      const lines = stdout.trimEnd().split("\n");
      assert.equal(lines[0], "INFO - User payment processed 12345 [REDACTED] [REDACTED]");
      assert.match(
        lines[1]!,
        /^secure\.log: gAAAAAB[\w-]{17}… \(a Fernet token, \d+ characters\)$/,
      );
      assert.equal(
        lines[2],
        'Decrypted log: {"level":"INFO","logger":"secure_logger","message":"User payment processed",' +
          '"user_id":"12345","credit_card":"4111-1111-1111-1111","ssn":"123-45-6789"}',
      );
      // The example runs python3 from PATH; the peer check finds one with cryptography.
      if (havePython(pythonCryptography())) {
        assert.equal(lines[3], "Python's Fernet(key).decrypt(line) reads it too: ssn 123-45-6789");
      }
    },
  },
  "11_microservices": {
    check({ stdout }) {
      const lines = stdout.trimEnd().split("\n");
      const body = untimed(lines.slice(0, 3).join("\n"));
      const trace = body[0]!.match(/^payment-service - \[([0-9a-f]{32})\] - /)?.[1];
      assert.ok(trace, body[0]);
      assert.deepEqual(body, [
        `payment-service - [${trace}] - Starting payment processing`,
        `payment-service - [${trace}] - Payment processed successfully`,
        "payment-service - [no_trace] - Idle",
      ]);
      assert.match(
        lines[3]!,
        new RegExp(`^traceparent for a downstream call: 00-${trace}-[0-9a-f]{16}-01$`),
      );
      assert.equal(lines[4], 'Metrics: {"payment-service":{"INFO":3}}');
    },
  },
  "12_microservices_results": {
    check({ stdout }) {
      const trace = stdout.match(/\[([0-9a-f]{32})\]/)?.[1]!;
      const span = stdout.match(/- span_id: ([0-9a-f]{16})/)?.[1]!;
      const transaction = stdout.match(/- transaction_id: ([0-9a-f-]{36})/)?.[1]!;
      const context = (extra: string[]) => [
        "Extra context:",
        "- service: payment-service",
        "- user_id: user123",
        "- amount: 99.99",
        ...extra,
        `- trace_id: ${trace}`,
        `- span_id: ${span}`,
      ];
      const lines = stdout.trimEnd().split("\n");
      assert.deepEqual(lines.map((line) => line.replace(new RegExp(`^${TIME} - `), "")), [
        `payment-service - [${trace}] - Starting payment processing`,
        ...context([]),
        `payment-service - [${trace}] - Payment processed successfully`,
        ...context([`- transaction_id: ${transaction}`]),
        "Metrics Collection:",
        "{",
        '  "payment-service.info": 2,',
        '  "payment-service.error": 0,',
        '  "payment-service.warning": 0',
        "}",
      ]);
    },
  },
  "13_log_aggregator": {
    args: ["1000"],
    check({ stdout }) {
      assert.ok(stdout.startsWith("Analysis results:\n"), stdout);
      const json = stdout.slice(stdout.indexOf("{"), stdout.indexOf("\n}\n") + 2);
      const analysis = JSON.parse(json);
      assert.equal(analysis.total_services, 3);
      assert.equal(analysis.active_traces, 750, "four records per trace, 250 per service");
      for (const service of ["service1", "service2", "service3"]) {
        assert.deepEqual(analysis.service_distribution[service], {
          INFO: 900,
          WARN: 90,
          ERROR: 10,
        });
      }
      assert.deepEqual(
        analysis.top_errors.map((e: { message: string; count: number }) => [e.message, e.count])
          .sort(),
        [["Authentication failed", 15], ["Database connection timeout", 15]],
      );
      const query = stdout.slice(stdout.indexOf("\n}\n") + 3).trimEnd().split("\n");
      assert.equal(query[0], "sluice query --level error --service service2 --limit 2:");
      assert.equal(query.length, 3);
      assert.match(
        query[1]!,
        /^2023-11-18T12:59:06\.577Z ERROR root - Authentication failed service=service2 trace_id=trace-1-224 file=\S+\/service2\.log$/,
      );
      assert.match(
        query[2]!,
        /^2023-11-18T12:59:06\.677Z ERROR root - Database connection timeout /,
      );
    },
  },
  "14_aggregator_results": {
    args: ["1000"],
    check({ stdout }) {
      const json = stdout.slice(stdout.indexOf("{"), stdout.indexOf("\n}\n") + 2);
      const analysis = JSON.parse(json);
      assert.equal(analysis.total_services, 3);
      assert.equal(analysis.active_traces, 300);
      assert.deepEqual(analysis.service_distribution.service2, { INFO: 975, WARN: 24, ERROR: 1 });
      assert.match(stdout, /- Throughput: \d+ logs\/second/);
    },
  },
};

Deno.test("every example runs from the repository root, ends by itself, and prints what its slide shows", async (t) => {
  const names: string[] = [];
  for await (const entry of Deno.readDir(`${ROOT}examples`)) {
    if (entry.isDirectory) names.push(entry.name);
  }
  names.sort();
  assert.deepEqual(
    names,
    Object.keys(checks).sort(),
    "each example has a check here, and only those",
  );

  // Four at a time: each is a Deno process of its own, some start more (sluice, python3).
  const runs = new Map<string, Promise<Run>>();
  const queue = [...names];
  const workers = Array.from({ length: 4 }, async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const run = runExample(name, checks[name]!.args);
      runs.set(name, run);
      await run;
    }
  });
  await Promise.all(workers);

  for (const name of names) {
    await t.step(name, async () => {
      const run = await runs.get(name)!;
      assert.equal(run.code, 0, `examples/${name} exited with ${run.code}:\n${run.stderr}`);
      checks[name]!.check(run);
    });
  }
});

Deno.test("the README's walkthrough table names every example and its slide", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  for (const name of Object.keys(checks)) {
    assert.match(readme, new RegExp(`\\[examples/${name}\\]\\(examples/${name}/\\)`), name);
  }
});
