import assert from "node:assert/strict";
import { clangWasm, skipWithout } from "../helpers/peers.ts";
import { compileScanner, TARGET, wasmModule } from "../../scripts/wasm_module.ts";

// The committed WebAssembly module is what the committed C source compiles to: an edit of
// src/parse/json_line_scanner.c without `deno run -A scripts/build_wasm.ts` fails here.

const clang = clangWasm();

Deno.test({
  name: "json_line_scanner_wasm.ts is src/parse/json_line_scanner.c compiled",
  ignore: skipWithout(clang),
  async fn() {
    const expected = wasmModule(await compileScanner());
    assert.ok(
      (await Deno.readTextFile(TARGET)) === expected,
      "src/parse/json_line_scanner_wasm.ts differs from the C source: run scripts/build_wasm.ts",
    );
  },
});
