/**
 * What the pipeline reports about a sink (for `/ready`, `/metrics` and tests).
 *
 * @module
 */

/** What the pipeline reports about a sink (for `/ready`, `/metrics` and tests). */
export interface SinkStatus {
  /** The sink's id. */
  readonly id: string;
  /** Its minimum level. */
  readonly level: number;
  /** Records waiting in its queue. */
  readonly depth: number;
  /** Estimated bytes waiting in its queue. */
  readonly queuedBytes: number;
  /** Whether the queue is at its bound. */
  readonly saturated: boolean;
  /** Why it is unhealthy, or `undefined`. */
  readonly problem: string | undefined;
  /** The disk buffer's state, for a sink with `buffer.type: disk`. */
  readonly disk: DiskBufferStatus | undefined;
}

/** What `/metrics` shows of a sink's disk buffer. */
export interface DiskBufferStatus {
  /** Bytes of its segment files (what `max_bytes` bounds). */
  readonly bytes: number;
  /** Records in it not yet delivered (in flight included). */
  readonly records: number;
  /** Seconds since the oldest of them was appended (0 when empty). */
  readonly oldestAge: number;
}
