import assert from "node:assert/strict";
import { ParseError } from "../../../../src/parse/parse_error.ts";
import { decodePickle } from "../../../../plugins/sources/python/safe_pickle.ts";
import { python3, skipWithout } from "../../../helpers/peers.ts";

/** Runs a Python script and returns its stdout lines as base64-decoded pickles by name. */
async function pickles(script: string): Promise<Map<string, Uint8Array>> {
  const out = await new Deno.Command(python3().command, {
    args: ["-c", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  const map = new Map<string, Uint8Array>();
  for (const line of new TextDecoder().decode(out.stdout).trim().split("\n")) {
    const [name, b64] = line.split(" ") as [string, string];
    map.set(name, Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  }
  return map;
}

function rejects(bytes: Uint8Array, reason: string, label: string): void {
  assert.throws(
    () => decodePickle(bytes),
    (e) => e instanceof ParseError && e.reason === reason,
    label,
  );
}

const PLAIN = String.raw`
import pickle, base64, sys
shared = [1, 2]
value = {
  "str": "h\u00e9llo \u2713 \n\"quoted\"", "empty": "", "int": 7, "neg": -70000, "i32": 2**31 - 1,
  "big": 2**70, "negbig": -(2**65), "float": 3.25, "negfloat": -1e-300, "none": None,
  "t": True, "f": False, "list": [1, "a", [None]], "tuple": (1, (2, 3)),
  "nested": {"deep": {"deeper": [{"k": "v"}]}}, "a": shared, "b": shared, 5: "int key",
  "longstr": "x" * 300,
}
# bytes have their own opcodes from protocol 3, sets from protocol 4; before that Python
# writes them through GLOBAL + REDUCE, which the decoder refuses.
for proto in range(0, 6):
    v = dict(value)
    if proto >= 3:
        v.update({"bytes": b"\x00\xffab", "bigbytes": b"y" * 300})
    if proto >= 4:
        v.update({"set": {42}, "frozen": frozenset(["x"])})
    print("p%d" % proto, base64.b64encode(pickle.dumps(v, proto)).decode())
    print("bytes%d" % proto, base64.b64encode(pickle.dumps(b"ab", proto)).decode())
    print("set%d" % proto, base64.b64encode(pickle.dumps({1}, proto)).decode())
`;

const BASE = {
  str: 'h\u00e9llo \u2713 \n"quoted"',
  empty: "",
  int: 7,
  neg: -70000,
  i32: 2 ** 31 - 1,
  big: 2n ** 70n,
  negbig: -(2n ** 65n),
  float: 3.25,
  negfloat: -1e-300,
  none: null,
  t: true,
  f: false,
  list: [1, "a", [null]],
  tuple: [1, [2, 3]],
  nested: { deep: { deeper: [{ k: "v" }] } },
  a: [1, 2],
  b: [1, 2],
  "5": "int key",
  longstr: "x".repeat(300),
};

Deno.test({
  name: "safe_pickle decodes plain data pickled by real Python with protocols 0 to 5",
  ignore: skipWithout(python3()),
  async fn() {
    const map = await pickles(PLAIN);
    for (let proto = 0; proto <= 5; proto++) {
      const expected: Record<string, unknown> = { ...BASE };
      if (proto >= 3) {
        expected.bytes = new Uint8Array([0, 255, 97, 98]);
        expected.bigbytes = new TextEncoder().encode("y".repeat(300));
      }
      if (proto >= 4) {
        expected.set = [42];
        expected.frozen = ["x"];
      }
      const value = decodePickle(map.get(`p${proto}`)!) as Record<string, unknown>;
      assert.deepEqual(value, expected, `protocol ${proto}`);
      assert.equal(value.a, value.b, `protocol ${proto}: memo references share one array`);
      if (proto >= 3) {
        assert.deepEqual(decodePickle(map.get(`bytes${proto}`)!), new Uint8Array([97, 98]));
      } else rejects(map.get(`bytes${proto}`)!, "unsafe_pickle", `bytes with protocol ${proto}`);
      if (proto >= 4) assert.deepEqual(decodePickle(map.get(`set${proto}`)!), [1]);
      else rejects(map.get(`set${proto}`)!, "unsafe_pickle", `set with protocol ${proto}`);
    }
  },
});

Deno.test({
  name:
    "safe_pickle refuses a pickle that would call os.system, for every protocol, without running it",
  ignore: skipWithout(python3()),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const marker = `${dir}/pwned`;
      const map = await pickles(String.raw`
import pickle, base64, os
class Evil:
    def __reduce__(self):
        return (os.system, ("touch ${marker}",))
for proto in range(0, 6):
    print("p%d" % proto, base64.b64encode(pickle.dumps({"msg": "hi", "x": Evil()}, proto)).decode())
`);
      for (const [name, bytes] of map) rejects(bytes, "unsafe_pickle", name);
      await assert.rejects(Deno.stat(marker), Deno.errors.NotFound, "nothing was executed");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "safe_pickle refuses class instances, datetimes and out-of-band buffers",
  ignore: skipWithout(python3()),
  async fn() {
    const map = await pickles(String.raw`
import pickle, base64, datetime, collections
class Point:
    def __init__(self): self.x = 1
P = collections.namedtuple("P", "a b")
cases = {"instance": (Point(), 4), "datetime": (datetime.datetime(2024, 1, 1), 4),
         "namedtuple": (P(1, 2), 2), "instance0": (Point(), 0),
         "buffer": (pickle.PickleBuffer(b"abc"), 5)}
for name, (value, proto) in cases.items():
    if name == "buffer":
        data = pickle.dumps(value, proto, buffer_callback=lambda b: False)
    else:
        data = pickle.dumps(value, proto)
    print(name, base64.b64encode(data).decode())
`);
    assert.equal(map.size, 5);
    for (const [name, bytes] of map) rejects(bytes, "unsafe_pickle", name);
  },
});

Deno.test({
  name: "safe_pickle refuses values that expand exponentially, contain themselves or nest too deep",
  ignore: skipWithout(python3()),
  async fn() {
    const map = await pickles(String.raw`
import pickle, base64
a = [1]
for i in range(40):
    a = [a, a]
cyc = []
cyc.append(cyc)
d = {}
d["self"] = d
print("laughs", base64.b64encode(pickle.dumps(a, 4)).decode())
print("cycle", base64.b64encode(pickle.dumps(cyc, 2)).decode())
print("dictcycle", base64.b64encode(pickle.dumps(d, 0)).decode())
`);
    for (const [name, bytes] of map) rejects(bytes, "pickle_too_complex", name);
    // 100 nested lists: EMPTY_LIST x100, then APPEND x99, STOP.
    const deep = new Uint8Array([
      0x80,
      2,
      ...new Array(100).fill(0x5d),
      ...new Array(99).fill(0x61),
      0x2e,
    ]);
    rejects(deep, "pickle_too_complex", "deep");
    const ok = new Uint8Array([
      0x80,
      2,
      ...new Array(10).fill(0x5d),
      ...new Array(9).fill(0x61),
      0x2e,
    ]);
    assert.equal(JSON.stringify(decodePickle(ok)), "[".repeat(10) + "]".repeat(10));
  },
});

Deno.test({
  name:
    "safe_pickle reports every truncation of a real pickle as invalid and never throws anything else",
  ignore: skipWithout(python3()),
  async fn() {
    const map = await pickles(PLAIN);
    for (const [name, bytes] of map) {
      for (let cut = 0; cut < bytes.length; cut++) {
        assert.throws(
          () => decodePickle(bytes.subarray(0, cut)),
          (e) => e instanceof ParseError && ["invalid_pickle", "unsafe_pickle"].includes(e.reason),
          `${name} cut at ${cut}`,
        );
      }
    }
  },
});

Deno.test("safe_pickle survives 20,000 random and mutated inputs with only ParseErrors", () => {
  // A fixed seed keeps the run reproducible.
  let seed = 0x9e3779b9;
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const base = Uint8Array.from(
    atob("gAJ9cQBYAQAAAGFxAV1xAihLAUdABAAAAAAAAE6IZXMu"),
    (c) => c.charCodeAt(0),
  );
  let decoded = 0;
  for (let i = 0; i < 20_000; i++) {
    let bytes: Uint8Array;
    if (i % 2 === 0) {
      bytes = new Uint8Array(1 + Math.floor(random() * 64));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
    } else {
      bytes = base.slice();
      for (let k = 0; k < 3; k++) {
        bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      }
    }
    try {
      decodePickle(bytes);
      decoded++;
    } catch (error) {
      assert.ok(error instanceof ParseError, `input ${i}: ${error}`);
    }
  }
  assert.ok(decoded < 20_000);
});

Deno.test("safe_pickle keeps a __proto__ key as an own property", () => {
  // {"__proto__": 1} with protocol 2.
  const bytes = new Uint8Array([
    0x80,
    2,
    0x7d,
    0x58,
    9,
    0,
    0,
    0,
    ...new TextEncoder().encode("__proto__"),
    0x4b,
    1,
    0x73,
    0x2e,
  ]);
  const value = decodePickle(bytes) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(value, "__proto__")?.value, 1);
});

/**
 * One hand-built pickle per forbidden opcode, with what the opcode consumes already on the
 * stack (checked with Python's pickletools.dis, which decodes without executing): real Python
 * pickles refuse GLOBAL first, so only these reach the others. Bytes as latin1 text; the
 * opcode's byte is its first occurrence.
 */
const FORBIDDEN_PICKLES: [string, number, string][] = [
  ["GLOBAL", 0x63, "cos\nsystem\n."],
  ["STACK_GLOBAL", 0x93, "\x80\x04\x8c\x02os\x8c\x06system\x93."],
  ["REDUCE", 0x52, "\x80\x02})R."],
  ["BUILD", 0x62, "\x80\x02}}b."],
  ["INST", 0x69, "(ios\nsystem\n."],
  ["OBJ", 0x6f, "\x80\x02(}o."],
  ["NEWOBJ", 0x81, "\x80\x02})\x81."],
  ["NEWOBJ_EX", 0x92, "\x80\x04})}\x92."],
  ["EXT1", 0x82, "\x80\x02\x82\x01."],
  ["EXT2", 0x83, "\x80\x02\x83\x01\x00."],
  ["EXT4", 0x84, "\x80\x02\x84\x01\x00\x00\x00."],
  ["PERSID", 0x50, "Pid\n."],
  ["BINPERSID", 0x51, "\x80\x02X\x02\x00\x00\x00idQ."],
  ["NEXT_BUFFER", 0x97, "\x80\x05\x97."],
  ["READONLY_BUFFER", 0x98, "\x80\x05C\x02ab\x98."],
];

for (const [opcode, code, text] of FORBIDDEN_PICKLES) {
  Deno.test(`safe_pickle refuses a hand-built pickle with ${opcode} as unsafe_pickle, naming it`, () => {
    const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
    const at = bytes.indexOf(code);
    assert.throws(
      () => decodePickle(bytes),
      (e) =>
        e instanceof ParseError && e.reason === "unsafe_pickle" &&
        e.message.includes(`opcode ${opcode} at byte ${at}`),
      `${opcode}: ${JSON.stringify(text)}`,
    );
  });
}
