/**
 * `host:port` addresses as network plugins take them.
 *
 * @module
 */

import { s, type Schema } from "../schema/schema.ts";

/** A parsed `host:port`. */
export interface Address {
  /** A host name or IP address (IPv6 without brackets). */
  hostname: string;
  /** The port, 0 to 65535 (0 lets a listener pick a free one). */
  port: number;
}

const PATTERN = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s\[\]]+)):(\d{1,5})$/;

/**
 * Parses `host:port` or `[v6]:port`; returns `undefined` when the text is not one.
 *
 * @example Parse IPv4 and IPv6 addresses
 * ```ts
 * import { parseAddress } from "./address.ts";
 * import assert from "node:assert/strict";
 * assert.ok(parseAddress("127.0.0.1:514")?.port === 514);
 * assert.ok(parseAddress("[::1]:6514")?.hostname === "::1");
 * assert.ok(parseAddress("localhost") === undefined);
 * ```
 */
export function parseAddress(value: unknown): Address | undefined {
  if (typeof value !== "string") return undefined;
  const m = PATTERN.exec(value.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65_535) return undefined;
  return { hostname: m[1] ?? m[2]!, port };
}

/**
 * The options schema of an address: `host:port`, parsed to an {@linkcode Address}.
 *
 * @example Validate an address option
 * ```ts
 * import { addressSchema } from "./address.ts";
 * import assert from "node:assert/strict";
 * const ctx = { issues: [] };
 * assert.ok(addressSchema().parse("logs.internal:6514", [], ctx)?.hostname === "logs.internal");
 * ```
 */
export function addressSchema(): Schema<Address> {
  return s.custom(
    parseAddress,
    "host:port such as 127.0.0.1:5514",
    { type: "string", pattern: PATTERN.source },
  );
}

/**
 * Formats an address back to `host:port` (brackets around IPv6).
 *
 * @example Format an IPv6 address
 * ```ts
 * import { formatAddress } from "./address.ts";
 * import assert from "node:assert/strict";
 * assert.ok(formatAddress({ hostname: "::1", port: 514 }) === "[::1]:514");
 * ```
 */
export function formatAddress(address: Address): string {
  return address.hostname.includes(":")
    ? `[${address.hostname}]:${address.port}`
    : `${address.hostname}:${address.port}`;
}
