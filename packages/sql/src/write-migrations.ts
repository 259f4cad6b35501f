import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Migration } from './migration.js'
import { migrations as tenantscopeMigrations } from './migration.js'

export interface WriteMigrationsOptions {
  /** Which migrations to write. @default migrations */
  migrations?: readonly Migration[]
  /**
   * File name for each migration, to match your migration tool's pattern.
   * @default (m) => `${m.name}.sql`
   * @example (m, i) => `2024010100000${i}_${m.name}.sql`
   */
  fileName?: (migration: Migration, index: number) => string
  /** Replace files that exist already. @default false */
  overwrite?: boolean
}

/**
 * Copies migrations into your own migrations folder, so your migration tool
 * runs them. Existing files are left alone unless `overwrite` is set.
 * Returns the paths written.
 */
export async function writeMigrations(directory: string, options: WriteMigrationsOptions = {}): Promise<string[]> {
  const { migrations = tenantscopeMigrations, fileName = (m: Migration) => `${m.name}.sql`, overwrite = false } = options
  await mkdir(directory, { recursive: true })
  const existing = new Set(await readdir(directory))
  const written: string[] = []
  for (const [index, migration] of migrations.entries()) {
    const name = fileName(migration, index)
    if (name.includes('/') || name.includes('\\')) throw new Error(`fileName must not contain a path separator: ${name}`)
    if (existing.has(name) && !overwrite) continue
    const path = join(directory, name)
    await writeFile(path, migration.sql)
    written.push(path)
  }
  return written
}
