import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core'

// drizzle-kit's statement separator in generated migration files.
const BREAKPOINT = '\n--> statement-breakpoint\n'

function qualifiedName(table: PgTable): string {
  const { name, schema } = getTableConfig(table)
  const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`
  return schema ? `${quote(schema)}.${quote(name)}` : quote(name)
}

/**
 * The SQL drizzle-kit cannot emit: `ALTER TABLE ... FORCE ROW LEVEL SECURITY`
 * for each table, separated by drizzle-kit's statement breakpoints. Without
 * FORCE, the table owner bypasses every policy. Paste it into a custom
 * migration (`drizzle-kit generate --custom --name=force_rls`) that runs
 * after the one creating the tables. Idempotent.
 * @example writeFileSync(customMigrationPath, forceRowLevelSecurity([users, projects, invoices]))
 */
export function forceRowLevelSecurity(tables: readonly PgTable[]): string {
  return tables.map((table) => `ALTER TABLE ${qualifiedName(table)} FORCE ROW LEVEL SECURITY;`).join(BREAKPOINT) + '\n'
}
