// The node-postgres objects the library accepts, described by the methods it calls, so that the published
// type declarations compile in an application that does not install `@types/pg`: a `pg.Pool` or a
// connected `pg.Client` is one.

/** What a node-postgres query resolves to, as far as the library reads it. */
export interface PostgresQueryResult {
  readonly rows: any[];
}

/** A connected node-postgres `pg.Client` (or a client checked out of a pool). */
export interface PostgresClient {
  query(text: string, values?: any[]): Promise<PostgresQueryResult>;
}

/** A node-postgres `pg.Pool`. */
export interface PostgresPool extends PostgresClient {
  connect(): Promise<PostgresClient & { release(error?: Error | boolean): void }>;
  end(): Promise<void>;
}
