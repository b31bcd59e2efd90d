/**
 * The error a parser throws for an input that cannot become a record.
 *
 * @module
 */

/** Why an input could not become a record; its `reason` is the rejection label in /metrics. */
export class ParseError extends Error {
  /** Creates the error with a short machine reason such as `invalid_json`. */
  constructor(message: string, readonly reason: string) {
    super(message);
    this.name = "ParseError";
  }
}
