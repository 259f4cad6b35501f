import { exampleFiles, migrationFiles } from './_embedded-sql.js'

/** One ordered, idempotent migration: run in name order, safe to run twice. */
export interface Migration {
  /** e.g. `0001_tenantscope_schema` */
  readonly name: string
  readonly sql: string
}

/** tenantscope's own migrations: schema, helpers, enable_tenant_rls, roles, audit. */
export const migrations: readonly Migration[] = Object.freeze(migrationFiles.map((file) => Object.freeze({ ...file })))

/** The example schema (tenants, users, projects, invoices); run after `migrations`. */
export const exampleMigrations: readonly Migration[] = Object.freeze(exampleFiles.map((file) => Object.freeze({ ...file })))
