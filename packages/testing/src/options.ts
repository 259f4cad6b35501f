import type { Severity } from '@tenantscope/doctor'

/** A pooled client, as pg's PoolClient has it. */
export interface KitClient {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>
  release(error?: Error | boolean): void
}

/**
 * A pool connected as your application's role: a tenantscope TenantPool (its
 * `unscopedPool` is used, so no tenant context is needed) or a plain pg.Pool.
 */
export interface KitPool {
  connect(): Promise<KitClient>
  readonly unscopedPool?: { connect(): Promise<KitClient> }
}

/** A pool that may run a statement outside any tenant: pg.Pool. */
export interface KitAdminPool {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>
}

/** Column values for one tenant's row; they override the generated ones. */
export type RowFactory = (tenant: { tenantId: string }) => Record<string, unknown>

export interface TenantIsolationOptions {
  /**
   * The pool your application uses, connected as the application role. The
   * checks run on one of its connections: connected as a superuser or a
   * BYPASSRLS role they would prove nothing, so such a pool is refused.
   * @example { pool: createTenantPool({ connectionString: process.env.APP_DATABASE_URL }) }
   */
  pool: KitPool
  /**
   * The tenant tables to check (`schema.table`, or `table` in any schema).
   * @default every table that has the tenant column and that the role may read
   * @example { tables: ['public.projects', 'invoices'] }
   */
  tables?: readonly string[]
  /** The column that makes a table a tenant table. @default 'tenant_id' */
  tenantColumn?: string
  /** The setting your policies read the tenant from. @default 'app.current_tenant' */
  setting?: string
  /**
   * Values for columns the kit cannot invent (a CHECK it cannot guess, a
   * type it does not know), per table; merged over the generated row.
   * @example { factories: { 'public.invoices': () => ({ currency: 'EUR', amount_cents: 100 }) } }
   */
  factories?: Readonly<Record<string, RowFactory>>
  /**
   * A pool allowed to insert into the table your tenant column references
   * (e.g. `tenants`), when the application role may not. Used only to create
   * the two throwaway tenants, which are committed (the application's
   * connection must see them) and deleted at the end. Everything else happens
   * in one transaction on the application's connection, rolled back.
   * @example { adminPool: new pg.Pool({ connectionString: process.env.MIGRATION_DATABASE_URL }) }
   */
  adminPool?: KitAdminPool
  /**
   * The two throwaway tenant ids. @default random ids of the tenant column's
   * type (uuid, integer or text)
   */
  tenantIds?: readonly [string, string]
  /**
   * Also run `tenantscope doctor`'s catalog checks on the checked tables and
   * the role, and fail on findings at or above this severity; `false` skips them.
   * @default 'warning'
   */
  catalog?: Severity | false
}
