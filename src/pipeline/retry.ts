/**
 * The back-off of a sink's retries: its writes and its disk buffer's appends.
 *
 * @module
 */

/** The first retry's delay (ms); each failure doubles it. */
export const RETRY_INITIAL = 100;
/** The longest delay between retries (ms). */
export const RETRY_MAX = 5_000;
