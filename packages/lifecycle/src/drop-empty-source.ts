import type { TenantEntry } from '@tenantscope/router'
import pg from 'pg'

/** What finishMove did with a schema or database tenant's old place once its rows were erased. */
export type SourcePlace = { dropped: true; name: string } | { dropped: false; name: string; reason: string }

const SYSTEM_SCHEMAS = `('pg_catalog', 'information_schema', 'tenantscope', 'pg_toast')`
// The place's migration bookkeeping (@tenantscope/router's migrateTarget): not the tenant's rows.
const NOT_BOOKKEEPING = `c.relname <> 'tenantscope_migrations'`

/**
 * @internal Drops the schema (and its tenant role) or the database that a
 * moved schema or database tenant left, once finishMove erased its rows:
 * only when no table there holds a row any more (but the migration
 * bookkeeping, tenantscope_migrations), no other tenant of the
 * directory lives there, and it is none of the shared schemas nor the
 * directory's own database. The schema's tables are locked before they are
 * checked, so nothing is written between the check and the drop. Whatever
 * stops it is returned as the reason, and nothing is dropped.
 *
 * `source` is the erase's connection to the old place (a schema tenant's
 * database, or the tenant's own database); `admin` the directory's database,
 * where tenantscope made a database tenant's database and a primary schema.
 */
export async function dropEmptySource(
  admin: pg.Pool,
  entry: TenantEntry,
  source: pg.ClientBase,
  sharedSchemas: readonly string[],
): Promise<SourcePlace | undefined> {
  if (entry.strategy === 'schema' && entry.schema) return dropSchema(admin, entry, source, sharedSchemas)
  if (entry.strategy === 'database' && entry.database) return dropDatabase(admin, entry, source)
  return undefined
}

async function dropSchema(admin: pg.Pool, entry: TenantEntry, source: pg.ClientBase, shared: readonly string[]): Promise<SourcePlace> {
  const name = entry.schema!
  const kept = (reason: string): SourcePlace => ({ dropped: false, name, reason })
  if (name === 'public' || shared.includes(name)) return kept('a shared schema')
  const others = await admin.query(
    `SELECT 1 FROM tenantscope.tenant_directory WHERE tenant_id <> $1 AND strategy = 'schema' AND schema_name = $2 AND region IS NOT DISTINCT FROM $3`,
    [entry.tenantId, name, entry.region ?? null],
  )
  if (others.rowCount !== 0) return kept('another tenant lives there')
  // A primary schema was made through the directory's admin; a region's, in that region (the erase's connection).
  const place = entry.region === undefined ? await admin.connect() : source
  let broken: Error | undefined
  try {
    await place.query('BEGIN')
    const tables = await place.query<{ name: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND ${NOT_BOOKKEEPING}`,
      [name],
    )
    if (tables.rows.length > 0) await place.query(`LOCK TABLE ${tables.rows.map((t) => t.name).join(', ')} IN ACCESS EXCLUSIVE MODE`)
    const full = await firstTableWithRows(place, tables.rows)
    if (full !== undefined) {
      await place.query('ROLLBACK')
      return kept(`${full} still holds rows`)
    }
    await place.query(`DROP SCHEMA ${pg.escapeIdentifier(name)} CASCADE`)
    await place.query('COMMIT')
  } catch (error) {
    broken = error as Error
    await place.query('ROLLBACK').catch(() => undefined)
    return kept(`could not drop it: ${(error as Error).message}`)
  } finally {
    if (place !== source) (place as pg.PoolClient).release(broken)
  }
  await dropRole(admin, entry, entry.region === undefined ? admin : source)
  return { dropped: true, name }
}

// The tenant's NOLOGIN role, when no other tenant uses it; kept (it owns nothing here now) if it still has privileges elsewhere.
async function dropRole(admin: pg.Pool, entry: TenantEntry, place: pg.Pool | pg.ClientBase): Promise<void> {
  if (!entry.role) return
  const others = await admin.query(`SELECT 1 FROM tenantscope.tenant_directory WHERE tenant_id <> $1 AND role_name = $2`, [
    entry.tenantId,
    entry.role,
  ])
  if (others.rowCount !== 0) return
  const role = pg.escapeIdentifier(entry.role)
  await place.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`).catch(() => undefined)
}

async function dropDatabase(admin: pg.Pool, entry: TenantEntry, source: pg.ClientBase): Promise<SourcePlace> {
  const name = entry.database!
  const kept = (reason: string): SourcePlace => ({ dropped: false, name, reason })
  const { rows } = await admin.query<{ db: string }>('SELECT current_database() AS db')
  if (rows[0]!.db === name) return kept("the directory's own database")
  const here = await source.query<{ db: string }>('SELECT current_database() AS db')
  if (here.rows[0]!.db !== name) return kept('the erase ran in another database')
  const others = await admin.query(`SELECT 1 FROM tenantscope.tenant_directory WHERE tenant_id <> $1 AND database_key = $2`, [
    entry.tenantId,
    name,
  ])
  if (others.rowCount !== 0) return kept('another tenant lives there')
  try {
    // Held until the drop ends this connection: nothing is written between the check and the drop.
    await source.query('BEGIN')
    const tables = await source.query<{ name: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND ${NOT_BOOKKEEPING} AND n.nspname NOT IN ${SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_temp\\_%'`,
    )
    if (tables.rows.length > 0) await source.query(`LOCK TABLE ${tables.rows.map((t) => t.name).join(', ')} IN ACCESS EXCLUSIVE MODE`)
    const full = await firstTableWithRows(source, tables.rows)
    if (full !== undefined) {
      await source.query('ROLLBACK')
      return kept(`${full} still holds rows`)
    }
    await admin.query(`DROP DATABASE ${pg.escapeIdentifier(name)} WITH (FORCE)`)
  } catch (error) {
    await source.query('ROLLBACK').catch(() => undefined)
    return kept(`could not drop it: ${(error as Error).message}`)
  }
  return { dropped: true, name }
}

async function firstTableWithRows(client: pg.ClientBase, tables: readonly { name: string }[]): Promise<string | undefined> {
  // Inside the caller's transaction. Row security would hide other tenants' rows from a role that does not
  // bypass it, and an "empty" place would be dropped with their data: with it off, such a role gets an error.
  await client.query('SET LOCAL row_security = off')
  for (const { name } of tables) {
    const { rows } = await client.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${name}) AS any`)
    if (rows[0]!.any) return name
  }
  return undefined
}
