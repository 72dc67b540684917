/**
 * The qualified name of one of a queue's tables, `absurd."t_<queue>"`. Queue names may hold any
 * character, so they are always quoted as identifiers and never run as SQL.
 */
export function queueTable(prefix: 't' | 'r' | 'c' | 'e' | 'w', queueName: string): string {
  return `absurd."${`${prefix}_${queueName}`.replaceAll('"', '""')}"`;
}
