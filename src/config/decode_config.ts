/**
 * Config bytes to text, strictly.
 *
 * @module
 */

import { ConfigError } from "./config_error.ts";

/**
 * The text of a config file; invalid UTF-8 is an error at the line and column of the first
 * bad byte (a lenient decoder would turn it into U+FFFD and validate something else).
 *
 * @example A Latin-1 byte is reported at its line and column
 * ```ts
 * import { decodeConfig } from "./decode_config.ts";
 * import { ConfigError } from "./config_error.ts";
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array([...new TextEncoder().encode("sinks:\n  caf"), 0xe9]);
 * assert.throws(() => decodeConfig(bytes, "a.yaml"), (error) =>
 *   error instanceof ConfigError && error.message.startsWith("a.yaml:2:6: Invalid UTF-8"));
 * ```
 */
export function decodeConfig(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    const at = firstInvalidUtf8(bytes);
    const before = new TextDecoder().decode(bytes.subarray(0, at));
    const lineStart = before.lastIndexOf("\n") + 1;
    throw new ConfigError([{
      file,
      line: before.split("\n").length,
      col: before.length - lineStart + 1,
      path: "",
      message: `Invalid UTF-8 in the config: byte 0x${
        (bytes[at] ?? 0).toString(16).padStart(2, "0")
      } at offset ${at}`,
      hint: "save the file as UTF-8",
    }], { cause: error });
  }
}

/** The offset of the first byte that does not belong to a well-formed UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const [size, min, max] = b < 0x80
      ? [1, 0, 0]
      : b >= 0xc2 && b <= 0xdf
      ? [2, 0x80, 0xbf]
      : b === 0xe0
      ? [3, 0xa0, 0xbf]
      : b === 0xed
      ? [3, 0x80, 0x9f]
      : b >= 0xe1 && b <= 0xef
      ? [3, 0x80, 0xbf]
      : b === 0xf0
      ? [4, 0x90, 0xbf]
      : b >= 0xf1 && b <= 0xf3
      ? [4, 0x80, 0xbf]
      : b === 0xf4
      ? [4, 0x80, 0x8f]
      : [0, 0, 0];
    if (size === 0) return i;
    for (let k = 1; k < size; k++) {
      const c = bytes[i + k];
      const [lo, hi] = k === 1 ? [min, max] : [0x80, 0xbf];
      if (c === undefined || c < lo || c > hi) return i;
    }
    i += size;
  }
  return bytes.length;
}
