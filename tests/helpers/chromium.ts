/**
 * Debian's `chromium` driven by `playwright-core` (a test-only dependency), for the
 * dashboard's browser test and the README screenshot.
 *
 * @module
 */

import { chromium as playwright } from "playwright-core";
import type { Browser } from "playwright-core";
import { findPeer, type Peer } from "./peers.ts";

/** Where Debian's package puts the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Debian's chromium (`apt-get install -y chromium`). */
export function chromium(): Peer {
  return findPeer(
    CHROMIUM_PATH,
    ["--headless", "--no-sandbox", "--version"],
    "install it with: apt-get install -y chromium",
  );
}

/**
 * Starts headless chromium. As root its sandbox cannot start, so `--no-sandbox` is passed
 * then (the pages it opens are Sluice's own).
 */
export function launchChromium(): Promise<Browser> {
  return playwright.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: Deno.uid() === 0 ? ["--no-sandbox"] : [],
  });
}
