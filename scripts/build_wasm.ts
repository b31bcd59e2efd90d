/**
 * `deno run -A scripts/build_wasm.ts`: compiles src/parse/json_line_scanner.c (needs Debian's
 * `clang` and `lld`) into src/parse/json_line_scanner_wasm.ts. Run it after changing the C
 * source; tests/parse/json_line_scanner_build_test.ts checks the two agree.
 *
 * @module
 */

import { compileScanner, TARGET, wasmModule } from "./wasm_module.ts";

await Deno.writeTextFile(TARGET, wasmModule(await compileScanner()));
console.log(`Wrote ${TARGET}`);
