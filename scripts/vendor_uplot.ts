/**
 * Writes src/server/dashboard/uplot_assets.ts: uPlot's built browser script and stylesheet
 * from the npm package `uplot` (the version deno.json pins for scripts/ and tests/), as
 * string constants with the package's MIT license. The dashboard serves them from there, so
 * that a published Sluice needs no file access, no npm download at run time and no CDN.
 * tests/server/dashboard_test.ts fails when the file and the package differ.
 *
 * Run after changing the pin: `deno run --allow-read --allow-write=src/server/dashboard scripts/vendor_uplot.ts`
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { uplotAssetsModule } from "./uplot_assets_module.ts";

const target = fileURLToPath(
  new URL("../src/server/dashboard/uplot_assets.ts", import.meta.url),
);
await Deno.writeTextFile(target, await uplotAssetsModule());
console.log(`Wrote ${target}`);
