// When a database gets the schema is decided here, for every way of opening one. Embedded PGlite is
// migrated as it opens: it is the application's own file, so `pglite:` URLs need no setup step. A Postgres
// server is migrated only when the client is told to (`new Absurd({ migrate: true })`) and otherwise
// checked, so a deploy decides when a shared database changes. The command line's `init` and `migrate`
// open with 'none' and report what they apply themselves.
import type { Database } from '../db/database.ts';
import { assertSchemaCurrent, migrate, type MigrationTarget } from './migrate.ts';

/** What opening a database does to its schema: apply pending migrations, refuse a missing or older one, or nothing. */
export type SchemaSetup = 'migrate' | 'check' | 'none';

/** The schema setup of a database of `kind` opened with the client's `migrate` option. */
export function schemaSetupFor(kind: Database['kind'], migrateOption: boolean | undefined): SchemaSetup {
  return kind === 'pglite' || migrateOption === true ? 'migrate' : 'check';
}

/** Carries out `setup` on `target`. */
export async function setUpSchema(target: MigrationTarget, setup: SchemaSetup): Promise<void> {
  if (setup === 'migrate') await migrate(target);
  else if (setup === 'check') await assertSchemaCurrent(target);
}
