import type { Queryable } from '../../src/db/database.ts';

/**
 * A normalised description of every object in the library's schemas: tables with their columns,
 * indexes, constraints, and functions with their full definitions. Two databases with equal
 * snapshots have the same schema.
 */
export async function schemaSnapshot(database: Queryable): Promise<string[]> {
  const schemas = `('absurd', 'ai_sdk_absurd')`;
  const columns = await database.query<{ line: string }>(`
    select format('column %s.%s.%s %s %s %s', c.table_schema, c.table_name, c.column_name, c.data_type,
                  c.is_nullable, coalesce(c.column_default, '')) as line
    from information_schema.columns c
    where c.table_schema in ${schemas}
    order by 1`);
  const indexes = await database.query<{ line: string }>(`
    select format('index %s.%s %s', schemaname, indexname, indexdef) as line
    from pg_indexes where schemaname in ${schemas} order by 1`);
  const constraints = await database.query<{ line: string }>(`
    select format('constraint %s.%s %s %s', n.nspname, cl.relname, co.conname, pg_get_constraintdef(co.oid)) as line
    from pg_constraint co
    join pg_class cl on cl.oid = co.conrelid
    join pg_namespace n on n.oid = cl.relnamespace
    where n.nspname in ${schemas} order by 1`);
  const functions = await database.query<{ line: string }>(`
    select format('function %s.%s(%s) %s', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
                  md5(pg_get_functiondef(p.oid))) as line
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ${schemas} order by 1`);
  const migrations = await database.query<{ line: string }>(
    `select format('migration %s %s %s', version, name, checksum) as line from ai_sdk_absurd.schema_migrations order by version`,
  );
  return [...columns.rows, ...indexes.rows, ...constraints.rows, ...functions.rows, ...migrations.rows].map((row) => row.line);
}
