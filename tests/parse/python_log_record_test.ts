import assert from "node:assert/strict";
import { recordFromPythonDict } from "../../src/parse/python_log_record.ts";

/** What CPython 3.11's HTTPHandler sends: `urlencode(record.__dict__)`. */
const form = (text: string) => Object.fromEntries(new URLSearchParams(text));

Deno.test("recordFromPythonDict maps HTTPHandler's LogRecord dict: name, level, msg % args, created, extras", () => {
  const record = recordFromPythonDict(
    form(
      "name=payment.db&msg=order+%25s+failed+after+%25.1fs&args=%28%27A-17%27%2C+2.5%29&levelname=WARNING&levelno=30&pathname=%2Fsrv%2Fapp.py&filename=app.py&module=app&exc_info=None&exc_text=None&stack_info=None&lineno=6&funcName=charge&created=1795501226.12183&msecs=121.0&relativeCreated=1.981496810913086&thread=140303918791552&threadName=MainThread&processName=MainProcess&process=13947&order_id=17&user=ada",
    ),
    0,
  );
  assert.equal(record.logger, "payment.db");
  assert.equal(record.level, 30);
  assert.equal(record.message, "order A-17 failed after 2.5s");
  assert.equal(record.time, 1795501226122);
  assert.equal(record.error, undefined);
  assert.deepEqual(record.fields, {
    order_id: "17",
    user: "ada",
    python: {
      module: "app",
      funcName: "charge",
      lineno: 6,
      pathname: "/srv/app.py",
      filename: "app.py",
      process: 13947,
      processName: "MainProcess",
      thread: 140303918791552,
      threadName: "MainThread",
    },
  });
});

Deno.test("recordFromPythonDict reads the exception from exc_info's repr, or from exc_text when formatted", () => {
  const unformatted = recordFromPythonDict(
    form(
      "name=app&msg=boom&args=%28%29&levelname=ERROR&levelno=40&exc_info=%28%3Cclass+%27ZeroDivisionError%27%3E%2C+ZeroDivisionError%28%27division+by+zero%27%29%2C+%3Ctraceback+object+at+0x7f9b0c749300%3E%29&exc_text=None&created=1.5",
    ),
    0,
  );
  assert.deepEqual(unformatted.error, { name: "ZeroDivisionError", message: "division by zero" });
  assert.equal(unformatted.message, "boom");
  const traceback = 'Traceback (most recent call last):\n  File "app.py", line 3, in <module>\n' +
    "    raise app.errors.PaymentError('card declined')\napp.errors.PaymentError: card declined";
  const formatted = recordFromPythonDict({
    name: "app",
    msg: "charge failed",
    args: "()",
    levelno: "40",
    exc_text: traceback,
    exc_info:
      "(<class 'app.errors.PaymentError'>, PaymentError('card declined'), <traceback object at 0x1>)",
  }, 0);
  assert.deepEqual(formatted.error, {
    name: "app.errors.PaymentError",
    message: "card declined",
    stack: traceback,
  });
});

Deno.test("recordFromPythonDict keeps the raw msg when args cannot be read or do not fit", () => {
  const opaque = recordFromPythonDict({
    name: "app",
    msg: "at %s",
    args: "(datetime.datetime(2024, 1, 1, 0, 0),)",
    levelname: "INFO",
  }, 7);
  assert.equal(opaque.message, "at %s");
  assert.equal(
    (opaque.fields.python as Record<string, unknown>).args,
    "(datetime.datetime(2024, 1, 1, 0, 0),)",
  );
  assert.equal(opaque.time, 7, "no created: now");
  assert.equal(opaque.level, 20, "levelname when levelno is missing");
  const mismatch = recordFromPythonDict({ name: "app", msg: "%s and %s", args: "('one',)" }, 0);
  assert.equal(mismatch.message, "%s and %s");
});

Deno.test("recordFromPythonDict prefers an already formatted message and keeps a literal 'None' message", () => {
  assert.equal(
    recordFromPythonDict({ msg: "%s", args: "('x',)", message: "pre-formatted" }, 0).message,
    "pre-formatted",
  );
  assert.equal(recordFromPythonDict({ msg: "None", args: "()" }, 0).message, "None");
  assert.equal(recordFromPythonDict({ msg: "%(who)s", args: "{'who': 'ada'}" }, 0).message, "ada");
});

Deno.test("recordFromPythonDict takes real values from a pickled dict (SocketHandler) as they are", () => {
  const record = recordFromPythonDict({
    name: "svc",
    msg: "took %d ms",
    args: [12],
    levelno: 10,
    created: 1700000000.5,
    exc_info: null,
    exc_text: null,
    lineno: 9,
    taskName: null,
    trace_id: "abc",
    attempt: 2,
  }, 0);
  assert.equal(record.message, "took 12 ms");
  assert.equal(record.level, 10);
  assert.equal(record.time, 1700000000500);
  assert.deepEqual(record.fields, { trace_id: "abc", attempt: 2, python: { lineno: 9 } });
});

Deno.test("recordFromPythonDict keeps a created no Date can hold in python.created and takes the time of arrival", () => {
  for (const created of [1e300, "1e300", 8.7e15, "not a time"]) {
    const record = recordFromPythonDict({ name: "x", msg: "m", levelno: 20, created }, 1234);
    assert.equal(record.time, 1234, String(created));
    assert.deepEqual(record.fields, { python: { created } }, String(created));
  }
});
