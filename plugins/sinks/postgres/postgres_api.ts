/**
 * The part of the `postgres` package's API the `postgres` sink uses, described here instead
 * of imported: even a type-only import of an `npm:` specifier puts the package in mod.ts's
 * module graph (`deno info mod.ts`). tests/package/npm_api_types_test.ts checks the real
 * package against these types.
 *
 * @module
 */

/** The rows of a statement, with how many it affected. */
export type PostgresRows<T extends readonly object[]> = T & { count: number };

/** Runs statements: a tagged template (values sent as parameters) or `unsafe` text. */
export interface PostgresQueries {
  /** A statement whose `${values}` are sent as parameters. */
  <T extends readonly object[] = object[]>(
    template: TemplateStringsArray,
    ...values: readonly string[]
  ): Promise<PostgresRows<T>>;
  /** A statement given as text, with `$1`… parameters. */
  unsafe(
    query: string,
    parameters?: readonly unknown[],
    options?: { prepare?: boolean },
  ): Promise<PostgresRows<object[]>>;
}

/** A connection pool. */
export interface PostgresSql extends PostgresQueries {
  /** Runs `body` in a transaction: committed when it resolves, rolled back when it rejects. */
  begin<T>(body: (tx: PostgresQueries) => Promise<T>): Promise<T>;
  /** Closes the pool, waiting up to `timeout` seconds for running statements. */
  end(options: { timeout: number }): Promise<void>;
}

/** The pool's settings the sink gives. */
export interface PostgresOptions {
  /** Most connections. */
  max: number;
  /** Seconds one connection attempt may take. */
  connect_timeout: number;
  /** Called with each notice (the sink ignores them). */
  onnotice: (notice: unknown) => void;
}

/** The `postgres` module. */
export interface PostgresModule {
  /** Creates a pool for a connection URL (no connection is made before the first statement). */
  default: (url: string, options: PostgresOptions) => PostgresSql;
}
