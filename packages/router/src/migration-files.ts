import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TenantScopeError } from '@tenantscope/core'

/** One migration: a plain SQL file, split into statements. */
export interface MigrationFile {
  /** The file name without `.sql`; migrations run in name order. */
  readonly name: string
  readonly sql: string
  /** sha256 of the SQL: an applied migration whose file changed is refused. */
  readonly checksum: string
  readonly statements: readonly string[]
}

// drizzle-kit separates statements with this line; files without it run as
// one multi-statement query (simple protocol), as psql would run them.
const BREAKPOINT = /^\s*-->\s*statement-breakpoint\s*$/m

/** A migration from its name and SQL. */
export function migrationFrom(name: string, sql: string): MigrationFile {
  const statements = sql
    .split(BREAKPOINT)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0)
  return { name, sql, checksum: createHash('sha256').update(sql).digest('hex'), statements }
}

/**
 * Every `*.sql` file of a folder (not its subfolders, so drizzle-kit's `meta/`
 * is ignored), in name order.
 * @example await readMigrationsFolder('./drizzle')
 */
export async function readMigrationsFolder(folder: string): Promise<MigrationFile[]> {
  let names: string[]
  try {
    names = (await readdir(folder, { withFileTypes: true })).filter((e) => e.isFile() && e.name.endsWith('.sql')).map((e) => e.name)
  } catch (error) {
    throw new TenantScopeError('INVALID_CONFIG', `Cannot read the migrations folder ${folder}`, { cause: error })
  }
  names.sort()
  return Promise.all(names.map(async (file) => migrationFrom(file.slice(0, -'.sql'.length), await readFile(join(folder, file), 'utf8'))))
}
