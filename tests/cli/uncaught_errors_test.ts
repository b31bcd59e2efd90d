import assert from "node:assert/strict";
import { UncaughtErrors } from "../../src/cli/uncaught_errors.ts";
import { handledErrors } from "../../src/core/handled_errors.ts";

Deno.test("UncaughtErrors counts what nothing handled, passes over what a later listener handled, and turns exit 0 into 5", async () => {
  const lines: string[] = [];
  const errors = new UncaughtErrors((line) => lines.push(line));
  const target = new EventTarget();
  errors.install(target);
  // Added after the catch-all, as the NATS guard is: it handles its own kind of error.
  target.addEventListener("error", (event) => {
    const error = (event as ErrorEvent).error;
    if (error instanceof Error && error.message === "late socket error") handledErrors.add(error);
  });
  const handled = new Error("late socket error");
  const bug = new Error("a bug");
  for (const error of [handled, bug]) {
    const event = new ErrorEvent("error", { error, cancelable: true });
    target.dispatchEvent(event);
    assert.ok(event.defaultPrevented, "never the default (the process ending)");
  }
  target.dispatchEvent(
    new PromiseRejectionEvent("unhandledrejection", {
      promise: Promise.resolve(),
      reason: "a plain string",
      cancelable: true,
    }),
  );
  await Promise.resolve();
  assert.equal(errors.count, 2);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /thrown from a callback.*: a bug\n\s+at /);
  assert.match(lines[1]!, /a rejection nobody handled.*: a plain string$/);
  assert.equal(errors.exitCode(3), 3);
  assert.equal(errors.exitCode(0), 5);
  assert.match(lines[2]!, /Exiting with code 5: 2 errors nothing caught/);
  assert.equal(new UncaughtErrors(() => {}).exitCode(0), 0);
});
