import assert from "node:assert/strict";
import { clangWasm, skipWithout } from "../helpers/peers.ts";
import { COMPILER_PREFIX, compileScanner, TARGET, wasmModule } from "../../scripts/wasm_module.ts";
import { JSON_LINE_SCANNER_WASM } from "../../src/parse/json_line_scanner_wasm.ts";

// The committed WebAssembly module is what the committed C source compiles to: an edit of
// src/parse/json_line_scanner.c without `deno run -A scripts/build_wasm.ts` fails here. With
// the clang the module names, the text must be the same; another clang may emit other bytes,
// so then both modules scan the same lines and must report the same for each.

const clang = clangWasm();

/** A line of every kind the scanner tells apart, and some it must refuse. */
const LINES = [
  '{"time":"2026-01-01T00:00:00.000Z","level":"info","logger":"bench","message":"m","id":1}',
  '{"ts":1700000000,"lvl":50,"name":"n","msg":"say \\"hi\\"\\n","a":[1,{"b":null}],"c":-0.5}',
  '{"a":1,"message":"m","b":[2],"level":40,"c":{}}',
  '{"logger":"a\\tb","message":"\\u001f","x":true,"y":false}',
  '{"path":"C:\\\\temp","n":123456789012345,"d":0.000001}',
  "{}",
  '{"a": 1}',
  '{"a":1.0}',
  '{"a":1e3}',
  '{"a":1,"a":2}',
  '{"0":1}',
  '{"__proto__":1}',
  '{"time":"2026-02-30T00:00:00.000Z"}',
  '{"message":"caf\u00e9"}',
  "not json",
  '{"level":"warning","message":"x"}\r',
  "[1]",
  '{"a":"' + "x".repeat(100) + '"}',
];

function scan(base64: string, text: string): { slots: number[]; times: number[] } {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as Record<
    string,
    unknown
  >;
  const call = (name: string) => exports[name] as (...args: number[]) => number;
  const memory = exports.memory as WebAssembly.Memory;
  const input = new TextEncoder().encode(text);
  new Uint8Array(memory.buffer, call("input")(), input.length + 16).set(input);
  const count = call("scan")(0, input.length, 0, 0);
  return {
    slots: [...new Int32Array(memory.buffer, call("results")(), count * 22)],
    times: [...new Float64Array(memory.buffer, call("times")(), count)],
  };
}

Deno.test({
  name: "json_line_scanner_wasm.ts is src/parse/json_line_scanner.c compiled",
  ignore: skipWithout(clang),
  async fn() {
    const fresh = await compileScanner();
    const committed = await Deno.readTextFile(TARGET);
    if (committed.includes(` * ${COMPILER_PREFIX}${fresh.compiler}\n`)) {
      assert.ok(
        committed === wasmModule(fresh),
        "src/parse/json_line_scanner_wasm.ts differs from the C source: run scripts/build_wasm.ts",
      );
      return;
    }
    console.warn(`Another clang (${fresh.compiler}): comparing what both modules report`);
    const freshBase64 = wasmModule(fresh).match(/"([A-Za-z0-9+/=]+)"/g)!.map((part) =>
      part.slice(1, -1)
    ).join("");
    const text = LINES.join("\n");
    assert.deepEqual(scan(freshBase64, text), scan(JSON_LINE_SCANNER_WASM, text));
  },
});
