import assert from "node:assert/strict";
import { FrameDecoder, type FramingMode } from "../../src/ingest/framing.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Outcome {
  frames: string[];
  rejects: string[];
  fatal: boolean;
}

/** Feeds `input` in pieces of `step` bytes (every split point is exercised by the callers). */
function decode(
  mode: FramingMode,
  input: Uint8Array | string,
  step = Infinity,
  max = 1024,
  nul = false,
): Outcome & { decoder: FrameDecoder } {
  const bytes = typeof input === "string" ? encoder.encode(input) : input;
  const out: Outcome = { frames: [], rejects: [], fatal: false };
  const handler = {
    frame: (b: Uint8Array) => out.frames.push(decoder.decode(b)),
    reject: (reason: string, fatal: boolean) => {
      out.rejects.push(reason);
      if (fatal) out.fatal = true;
    },
  };
  const d = new FrameDecoder({ mode, maxFrameBytes: max, nulDelimiter: nul });
  for (let i = 0; i < bytes.length; i += step === Infinity ? bytes.length : step) {
    d.push(bytes.subarray(i, step === Infinity ? bytes.length : i + step), handler);
  }
  d.end(handler);
  return { ...out, decoder: d };
}

Deno.test("framing newline splits on LF, strips CR, skips empty lines, keeps a final unterminated line", () => {
  for (const step of [1, 2, 3, 7, Infinity]) {
    const out = decode("newline", "a\r\nbb\n\n\nccc\nlast", step);
    assert.deepEqual(out.frames, ["a", "bb", "ccc", "last"], `step ${step}`);
    assert.deepEqual(out.rejects, []);
  }
});

Deno.test("framing newline with nulDelimiter ends frames at NUL as Python's SysLogHandler sends them", () => {
  for (const step of [1, 5, Infinity]) {
    const out = decode("newline", "<14>one\0<11>two\0<12>three\n", step, 1024, true);
    assert.deepEqual(out.frames, ["<14>one", "<11>two", "<12>three"], `step ${step}`);
  }
});

Deno.test("framing octet counting reads LEN SP MSG across every split point, ignoring LFs between frames", () => {
  const msgs = ["<14>1 - - - - - - hello", "<11>multi\nline", "x".repeat(300), "é ünïcödé"];
  let input = "";
  for (const m of msgs) input += encoder.encode(m).length + " " + m + "\n";
  for (const step of [1, 2, 3, 13, Infinity]) {
    const out = decode("octet_counting", input, step);
    assert.deepEqual(out.frames, msgs, `step ${step}`);
    assert.deepEqual(out.rejects, []);
  }
});

Deno.test("framing auto picks octet counting for '<digits> <' and newline for '<' and '{'", () => {
  assert.equal(decode("auto", "3 abc2 de").decoder.mode, "octet_counting");
  assert.deepEqual(decode("auto", "3 abc2 de").frames, ["abc", "de"]);
  const lines = decode("auto", '<14>hello\n{"a":1}\n', 1);
  assert.equal(lines.decoder.mode, "newline");
  assert.deepEqual(lines.frames, ["<14>hello", '{"a":1}']);
  assert.equal(decode("auto", "2024-01-01 text\n").decoder.mode, "newline");
  assert.deepEqual(decode("auto", "12").frames, ["12"], "a short digit-only line at the end");
});

Deno.test("framing newline rejects an overlong line without buffering it and resyncs at the next LF", () => {
  const big = "x".repeat(10_000);
  for (const step of [100, 4096, Infinity]) {
    const out = decode("newline", `ok1\n${big}\nok2\n${big}`, step, 1000);
    assert.deepEqual(out.frames, ["ok1", "ok2"], `step ${step}`);
    assert.deepEqual(out.rejects, ["frame_too_large", "frame_too_large"], `step ${step}`);
  }
  // Memory stays bounded while a 10 MiB line streams in.
  const d = new FrameDecoder({ mode: "newline", maxFrameBytes: 64 * 1024 });
  const rejects: string[] = [];
  const handler = { frame: () => {}, reject: (r: string) => rejects.push(r) };
  const chunk = new Uint8Array(65_536).fill(0x61);
  let peak = 0;
  for (let i = 0; i < 160; i++) {
    d.push(chunk, handler);
    peak = Math.max(peak, d.buffered);
  }
  assert.ok(peak <= 64 * 1024, `buffered at most one frame, got ${peak}`);
  assert.deepEqual(rejects, ["frame_too_large"]);
});

Deno.test("framing newline takes a line of exactly the limit whose CRLF is split or missing, and rejects one byte more", () => {
  for (const step of [1, 2, 5, Infinity]) {
    assert.deepEqual(
      decode("newline", "abcd\r\nxy\n", step, 4).frames,
      ["abcd", "xy"],
      `step ${step}`,
    );
    // A last line without LF loses its trailing CR, as a terminated one does.
    assert.deepEqual(decode("newline", "abcd\r", step, 4).frames, ["abcd"], `step ${step}`);
    const over = decode("newline", "abcde\r\nxy\n", step, 4);
    assert.deepEqual([over.frames, over.rejects], [["xy"], ["frame_too_large"]], `step ${step}`);
  }
});

Deno.test("framing octet counting skips a frame whose count exceeds the limit and keeps going", () => {
  const big = "y".repeat(5000);
  for (const step of [1, 100, Infinity]) {
    const out = decode("octet_counting", `2 ok5000 ${big}3 abc`, step, 1000);
    assert.deepEqual(out.frames, ["ok", "abc"], `step ${step}`);
    assert.deepEqual(out.rejects, ["frame_too_large"]);
  }
});

Deno.test("framing octet counting treats a header that is not a count as fatal", () => {
  const out = decode("octet_counting", "3 abcgarbage 5 hello", 1);
  assert.deepEqual(out.frames, ["abc"]);
  assert.deepEqual(out.rejects, ["bad_octet_count"]);
  assert.ok(out.fatal);
  const tooLong = decode("octet_counting", "123456789012 x");
  assert.deepEqual(tooLong.rejects, ["bad_octet_count"]);
});

Deno.test("framing octet counting reports a count that promises more than the stream holds as truncated", () => {
  const out = decode("octet_counting", "3 abc100 only a few bytes", 4);
  assert.deepEqual(out.frames, ["abc"]);
  assert.deepEqual(out.rejects, ["truncated_frame"]);
});

Deno.test("framing length_prefixed reads 4-byte big-endian lengths, rejects empty and oversized frames", () => {
  const parts: number[] = [];
  const add = (payload: Uint8Array, length = payload.length) => {
    parts.push(length >>> 24, (length >>> 16) & 255, (length >>> 8) & 255, length & 255);
    parts.push(...payload);
  };
  add(encoder.encode("first"));
  add(new Uint8Array(0));
  add(new Uint8Array(2000).fill(1));
  add(encoder.encode("second"));
  add(encoder.encode("cut"), 10);
  for (const step of [1, 3, 500, Infinity]) {
    const out = decode("length_prefixed", new Uint8Array(parts), step, 1000);
    assert.deepEqual(out.frames, ["first", "second"], `step ${step}`);
    assert.deepEqual(out.rejects, ["empty_frame", "frame_too_large", "truncated_frame"]);
  }
});

Deno.test("framing newline text path gives the same lines and rejections as the byte path at every split, rejecting or replacing invalid UTF-8", () => {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const pieces: (string | number[])[] = [
    "plain",
    "ünï ✓",
    "😀",
    "\r",
    "\n",
    "\n",
    "\0",
    "x".repeat(40),
    // Two make a line at the 32-byte limit; with one more byte it is over.
    "0123456789abcdef",
    "0123456789abcdef",
    "y",
    "\uFEFF",
    [0xff],
    [0xc3, 0x28],
    "{}",
  ];
  const fatal = new TextDecoder("utf-8", { fatal: true });
  const replacing = new TextDecoder("utf-8");
  const keepingBom = new TextDecoder("utf-8", { ignoreBOM: true });
  for (let round = 0; round < 600; round++) {
    // Replacing decoders turn one invalid byte into one code unit, as ASCII does.
    const textDecoder = round % 3 === 0 ? replacing : round % 5 === 0 ? keepingBom : fatal;
    const parts: number[] = [];
    const count = 1 + Math.floor(random() * 30);
    for (let i = 0; i < count; i++) {
      const piece = pieces[Math.floor(random() * pieces.length)]!;
      parts.push(...(typeof piece === "string" ? encoder.encode(piece) : piece));
    }
    const bytes = new Uint8Array(parts);
    const nul = round % 2 === 0;
    const run = (text: boolean, step: number) => {
      const out: string[] = [];
      const handler = {
        frame: (b: Uint8Array) => {
          try {
            out.push(textDecoder.decode(b));
          } catch {
            out.push("<invalid>");
          }
        },
        reject: (reason: string) => out.push(`<${reason}>`),
        ...(text ? { line: (t: string) => out.push(t) } : {}),
      };
      const d = new FrameDecoder({
        mode: "newline",
        maxFrameBytes: 32,
        nulDelimiter: nul,
        ...(text ? { textDecoder } : {}),
      });
      for (let i = 0; i < bytes.length; i += step) d.push(bytes.subarray(i, i + step), handler);
      d.end(handler);
      return out;
    };
    const expected = run(false, bytes.length || 1);
    for (const step of [1, 3, 7, 64]) {
      assert.deepEqual(run(true, step), expected, `round ${round}, step ${step}`);
      assert.deepEqual(run(false, step), expected, `round ${round}, byte path, step ${step}`);
    }
  }
});
