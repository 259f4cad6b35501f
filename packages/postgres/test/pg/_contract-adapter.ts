import { createTenantSql } from '@tenantscope/postgres'
import type { ContractAdapter, ContractFactory, RawQueryable } from '@tenantscope/test-harness'
import postgres from 'postgres'

type Sql = postgres.Sql | postgres.TransactionSql

/** The contract's operations written as a postgres.js user would. */
export function adapterOver(sql: Sql, transaction: ContractAdapter['transaction']): ContractAdapter {
  return {
    insertProject: async (name) => {
      await sql`INSERT INTO projects (name) VALUES (${name})`
    },
    insertProjectFor: async (tenantId, name) => {
      await sql`INSERT INTO projects (tenant_id, name) VALUES (${tenantId}, ${name})`
    },
    // A RowList carries count, command and columns: compare the rows only.
    listProjects: async () => [
      ...(await sql<{ tenant_id: string; name: string }[]>`SELECT tenant_id, name FROM projects ORDER BY created_at, name`),
    ],
    renameProjects: async (name) => (await sql`UPDATE projects SET name = ${name}`).count,
    moveProjectsTo: async (tenantId) => (await sql`UPDATE projects SET tenant_id = ${tenantId}`).count,
    deleteProjects: async () => (await sql`DELETE FROM projects`).count,
    failingStatement: () => sql`SELECT 1 / 0`,
    transaction,
  }
}

/** Unscoped queries on the same postgres.js pool the adapter uses. */
export function rawQueryable(sql: postgres.Sql): RawQueryable {
  return { query: async (text) => ({ rows: [...(await sql.unsafe(text))] }) }
}

/** A contract factory over createTenantSql(postgres(url)); `url` maps the contract's URL (e.g. through PgBouncer). */
export function tenantSqlFactory(options: postgres.Options<{}> = {}, url: (url: string) => string = (u) => u): ContractFactory {
  return (config) => {
    const raw = postgres(url(config.connectionString!), { ...options, max: config.max, onnotice: () => undefined })
    const sql = createTenantSql(raw)
    const adapter = adapterOver(
      sql,
      (fn) => sql.begin((tx) => fn(adapterOver(tx, () => Promise.reject(new Error('no nested transactions'))))) as Promise<never>,
    )
    return { adapter, rawPool: rawQueryable(raw), end: () => sql.end({ timeout: 5 }) }
  }
}
