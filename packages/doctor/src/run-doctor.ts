import { DEFAULT_TENANT_SETTING } from '@tenantscope/sql'
import { type DoctorQueryable, loadCatalog, type OtherDatabases } from './catalog/index.js'
import { CHECKS } from './checks.js'
import { DoctorError } from './doctor-error.js'
import { compareFindings, type Finding, isAtLeast, type Severity } from './finding.js'
import { matchesTable } from './table-name.js'

export interface DoctorOptions {
  /**
   * The role your application connects as, checked for superuser, BYPASSRLS,
   * ownership and memberships. Defaults to the role `db` is connected as.
   * @example { role: 'app_user' }
   */
  role?: string
  /**
   * The column that makes a table a tenant table. @default 'tenant_id'
   * @example { tenantColumn: 'org_id' }
   */
  tenantColumn?: string
  /** The setting policies read the tenant from. @default 'app.current_tenant' */
  setting?: string
  /**
   * Only look at tables in these schemas. @default every schema but the system ones and `tenantscope`
   * @example { schemas: ['public', 'billing'] }
   */
  schemas?: readonly string[]
  /**
   * Only report on these tenant tables (`schema.table`, or `table` for any
   * schema) and their partitions; role findings are always reported. An entry
   * that names no tenant table throws DoctorError INVALID_OPTION. @default every tenant table
   */
  tables?: readonly string[]
  /**
   * Also look at the other databases of the server: roles are cluster-wide,
   * so an app role (or a group role such as tenantscope_app) may reach another
   * application's tenant tables. The doctor opens each database the role may
   * connect to with `connect`, and reports those where it may use a tenant table.
   * @default not checked
   * @example
   * const connect = async (database: string) => {
   *   const client = new pg.Client({ ...config, database })
   *   await client.connect()
   *   return client
   * }
   * await runDoctor(pool, { role: 'app_user', otherDatabases: { connect } })
   */
  otherDatabases?: OtherDatabases
}

export interface DoctorReport {
  /** Every finding, most severe first. */
  readonly findings: readonly Finding[]
  /** The role that was checked. */
  readonly role: string
  readonly tenantColumn: string
  /** The tenant tables that were checked (`schema.table`). */
  readonly tables: readonly string[]
  /** How many findings of each severity. */
  readonly counts: Readonly<Record<Severity, number>>
}

/**
 * Reads the catalog through `db` and reports every row-level-security mistake
 * it finds: tables without (forced) RLS or policies, policies that leak or
 * defeat the index, keys without the tenant, views and SECURITY DEFINER
 * functions that run as their owner, an application role that bypasses RLS.
 * Only reads; any role may run it. Takes a pg.Pool, Client or PoolClient; a
 * TenantPool is read through its `unscopedPool` (the catalog needs no tenant).
 * @example
 * const report = await runDoctor(pool, { role: 'app_user' })
 * const errors = report.findings.filter((f) => f.severity === 'error')
 */
export async function runDoctor(db: DoctorQueryable, options: DoctorOptions = {}): Promise<DoctorReport> {
  const tenantColumn = options.tenantColumn ?? 'tenant_id'
  const setting = options.setting ?? DEFAULT_TENANT_SETTING
  if (typeof tenantColumn !== 'string' || tenantColumn.length === 0 || tenantColumn.length > 63) {
    throw new DoctorError('INVALID_OPTION', 'tenantColumn must be a column name of 1 to 63 characters')
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(setting)) {
    throw new DoctorError('INVALID_OPTION', 'setting must be a dotted name such as app.current_tenant')
  }
  const target = (db as { unscopedPool?: DoctorQueryable }).unscopedPool ?? db
  const catalog = await loadCatalog(target, {
    tenantColumn,
    setting,
    role: options.role,
    schemas: options.schemas,
    otherDatabases: options.otherDatabases,
  })
  let findings = CHECKS.flatMap((check) => check(catalog))
  let tables = catalog.tables.map((table) => table.name)
  if (options.tables && options.tables.length > 0) {
    const wanted = options.tables
    const matches = (entry: string, name: string) => matchesTable(name, entry)
    // A typo must not read as "clean": every entry has to name a tenant table.
    const unknown = wanted.filter((entry) => !catalog.tables.some((table) => matches(entry, table.name)))
    if (unknown.length > 0) {
      throw new DoctorError('INVALID_OPTION', `No tenant table (with a ${tenantColumn} column) is named ${unknown.join(', ')}`)
    }
    // A wanted table brings its partitions (and inheritance children): the application can query them directly.
    const kept = new Set(
      catalog.tables
        .filter((table) => table.ancestors.some((name) => wanted.some((entry) => matches(entry, name))))
        .map((table) => table.name),
    )
    tables = tables.filter((name) => kept.has(name))
    findings = findings.filter((finding) =>
      finding.table === undefined ? finding.objectType === 'role' || finding.objectType === 'database' : kept.has(finding.table),
    )
  }
  findings.sort(compareFindings)
  const counts = { error: 0, warning: 0, info: 0 }
  for (const finding of findings) counts[finding.severity]++
  return { findings, role: catalog.role.name, tenantColumn, tables, counts }
}

/** True when any finding is `threshold` or worse: what `--fail-on` decides. */
export function hasFindingsAtLeast(report: Pick<DoctorReport, 'findings'>, threshold: Severity): boolean {
  return report.findings.some((finding) => isAtLeast(finding.severity, threshold))
}
