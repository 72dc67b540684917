import type { Command } from 'commander';
import { openDatabase } from '../../db/open-database.ts';
import { databaseSchemaVersion, migrate, printSql } from '../../schema/migrate.ts';
import { librarySchemaVersion } from '../../schema/migrations.ts';
import { resolveDatabaseUrl, withDatabaseOption } from '../database-option.ts';

/** `init`, `migrate` and `print-sql`: installing and upgrading the schema. */
export function registerSchemaCommands(program: Command): void {
  withDatabaseOption(
    program
      .command('init')
      .description('install the schema into a database (safe to re-run) and create a queue')
      .option('--queue <name>', 'also create this queue', 'default'),
  ).action(async (options: { db?: string; queue: string }) => {
    const result = await runMigrate(options);
    const { database } = openDatabase(resolveDatabaseUrl(options, { create: true }));
    try {
      await database.query('select absurd.create_queue($1)', [options.queue]);
    } finally {
      await database.close();
    }
    console.log(
      `${result.applied.length > 0 ? `Applied migrations ${result.applied.join(', ')}` : 'Schema already current'} ` +
        `(version ${result.version}); queue "${options.queue}" is ready.`,
    );
  });

  withDatabaseOption(
    program.command('migrate').description('apply pending migrations (forward-only; refuses a newer database)'),
  ).action(async (options: { db?: string }) => {
    const result = await runMigrate(options);
    console.log(
      result.applied.length > 0
        ? `Applied migrations ${result.applied.join(', ')}; schema is at version ${result.version}.`
        : `Schema already at version ${result.version}; nothing to do.`,
    );
  });

  program
    .command('print-sql')
    .description('print the SQL of a fresh install, for review or for applying with psql')
    .action(() => {
      process.stdout.write(printSql());
    });

  withDatabaseOption(
    program
      .command('schema-version')
      .description('print the schema version of a database and of this library')
      .option('--json', 'print JSON: { database, library }, database null when the schema is not installed'),
  ).action(
    async (options: { db?: string; json?: boolean }) => {
      const { database } = openDatabase(resolveDatabaseUrl(options), { schema: 'none' });
      try {
        await database.ready();
        const version = await databaseSchemaVersion(database);
        console.log(
          options.json
            ? JSON.stringify({ database: version ?? null, library: librarySchemaVersion() })
            : `database: ${version ?? 'not installed'}\nlibrary: ${librarySchemaVersion()}`,
        );
      } finally {
        await database.close();
      }
    },
  );
}

/** `init` and `migrate` are the commands that may create an embedded database where there is none yet. */
async function runMigrate(options: { db?: string }) {
  const { database } = openDatabase(resolveDatabaseUrl(options, { create: true }), { schema: 'none' });
  try {
    await database.ready();
    return await migrate(database);
  } finally {
    await database.close();
  }
}
