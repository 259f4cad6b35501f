import { isAtLeast, loadRole, matchesTable, runDoctor } from '@tenantscope/doctor'
import { attempt } from './attempt.js'
import { discoverTables, discoverViews, type KitTable } from './discover.js'
import { generateTenantId } from './generate-value.js'
import { TenantIsolationError } from './isolation-error.js'
import type { KitClient, TenantIsolationOptions } from './options.js'
import { parentsFirst } from './parents-first.js'
import { describeFailures, type IsolationFailure, type TenantIsolationReport } from './report.js'
import { buildInsert, requiredTenantKeys, type WrittenRow } from './row-builder.js'
import { quoteIdent } from './sql-text.js'
import { createWithAdmin, parentInserts, tenantParents } from './tenant-parents.js'

/**
 * Checks that tenants are isolated in your schema, as your application's
 * role, and returns what failed instead of throwing. Two throwaway tenants
 * get a generated row in every tenant table, inside one transaction that is
 * rolled back; then, per table: A cannot see, update or delete B's row,
 * cannot insert a row with B's id or move its own row to B, and with no
 * tenant set nothing is seen or written. Views over the tables, and (unless
 * `catalog: false`) the doctor's catalog checks, are included.
 * @example
 * const report = await checkTenantIsolation({ pool })
 * if (!report.ok) console.log(report.failures)
 */
export async function checkTenantIsolation(options: TenantIsolationOptions): Promise<TenantIsolationReport> {
  const tenantColumn = options.tenantColumn ?? 'tenant_id'
  const setting = options.setting ?? 'app.current_tenant'
  const source = options.pool?.unscopedPool ?? options.pool
  if (typeof source?.connect !== 'function') {
    throw new TenantIsolationError(
      'INVALID_OPTIONS',
      'assertTenantIsolation needs { pool }: a TenantPool or pg.Pool connected as the application role',
    )
  }
  const client = await source.connect()
  let broken: Error | undefined
  let removeTenants: (() => Promise<void>) | undefined
  let failed = false
  try {
    const role = await refusePrivilegedRole(client)
    const all = await discoverTables(client, tenantColumn)
    const selected = selectTables(all, options.tables, tenantColumn)
    const failures: IsolationFailure[] = []
    const tested = selected.filter((table) => {
      if (table.canSelect) return true
      failures.push({
        table: table.name,
        check: 'setup',
        reason: `role ${role} may not SELECT from it: grant it, or leave the table out of tables`,
      })
      return false
    })
    const views = await discoverViews(
      client,
      tested.map((table) => table.oid),
      tenantColumn,
    )
    const tenantType = (tested[0] ?? all[0]!).columns.find((column) => column.name === tenantColumn)!
    const ids = options.tenantIds ?? [generateTenantId(tenantType), generateTenantId(tenantType)]
    if (ids.length !== 2 || ids[0] === ids[1]) throw new TenantIsolationError('INVALID_OPTIONS', 'tenantIds must be two different ids')
    const [a, b] = ids

    // Tenant rows the application role may not insert come from adminPool, committed.
    const parents = tenantParents(all, tenantColumn)
    const parentPrivileges = await client.query(
      `SELECT p.oid::int8::text AS oid, has_table_privilege(p.oid, 'INSERT') AS can_insert FROM unnest($1::oid[]) AS p(oid)`,
      [parents.map((parent) => String(parent.oid))],
    )
    const byApp = parents.filter((parent) => parentPrivileges.rows.some((row) => Number(row.oid) === parent.oid && row.can_insert))
    const byAdmin = parents.filter((parent) => !byApp.includes(parent))
    if (byAdmin.length > 0 && !options.tenantIds) {
      if (!options.adminPool) {
        throw new TenantIsolationError(
          'INVALID_OPTIONS',
          `${tenantColumn} references ${byAdmin.map((parent) => parent.name).join(', ')}, where role ${role} may not insert: pass adminPool (a pool that may) to create the two throwaway tenants, or tenantIds of two tenants that exist`,
        )
      }
      removeTenants = await createWithAdmin(options.adminPool, byAdmin, ids, { tables: all, tenantColumn, setting })
    }

    await client.query('BEGIN')
    try {
      const setTenant = (id: string) => client.query('SELECT set_config($1, $2, true)', [setting, id])
      for (const parent of options.tenantIds ? [] : byApp) {
        for (const insert of await parentInserts(client, parent, ids)) {
          await setTenant(insert.id)
          const result = await attempt(client, insert.sql, insert.values, true)
          if (!result.ok)
            throw new TenantIsolationError('SETUP_FAILED', `Could not create a throwaway tenant in ${parent.name}: ${result.error.message}`)
        }
      }
      const written = await writeRows(client, { all, tested, tenantColumn, ids, setTenant, factories: options.factories, failures })
      for (const table of tested) {
        const rowA = written.get(table.oid)?.get(a)
        const rowB = written.get(table.oid)?.get(b)
        if (!rowA || !rowB) continue // reported by writeRows
        failures.push(
          ...(await checkTable(client, { table, all, tenantColumn, a, b, rowA, rowB, setTenant, written, factories: options.factories })),
        )
      }
      for (const view of views) {
        if (!view.hasTenantColumn) continue
        failures.push(...(await checkView(client, view.name, tenantColumn, a, setTenant)))
      }
    } finally {
      await client.query('ROLLBACK')
    }

    if (options.catalog !== false) {
      const threshold = options.catalog ?? 'warning'
      // The catalog checks also cover tables the role may write but not read (the kit cannot test
      // those itself). An empty list would mean "every table": then only the role is checked.
      const writable =
        options.tables && options.tables.length > 0
          ? []
          : all.filter((table) => !table.canSelect && (table.canInsert || table.canUpdate || table.canDelete))
      const checked = [...tested, ...writable].map((table) => table.name)
      const doctor = await runDoctor(client, { role, tenantColumn, setting, tables: checked.length > 0 ? checked : undefined })
      for (const finding of doctor.findings) {
        if (checked.length === 0 && finding.objectType !== 'role') continue
        if (!isAtLeast(finding.severity, threshold)) continue
        // Views, functions and roles are objects of their own; policies and keys belong to their table.
        const own = finding.objectType === 'view' || finding.objectType === 'function' || finding.objectType === 'role'
        failures.push({
          table: own ? finding.object : (finding.table ?? finding.object),
          check: 'catalog',
          reason: `${finding.severity}: ${finding.why}`,
          finding,
        })
      }
    }
    return {
      ok: failures.length === 0,
      role,
      tables: tested.map((table) => table.name),
      views: views.filter((view) => view.hasTenantColumn).map((view) => view.name),
      failures,
    }
  } catch (error) {
    failed = true
    if (!TenantIsolationError.is(error) && !(typeof error === 'object' && error !== null && 'severity' in error)) broken = error as Error
    throw error
  } finally {
    client.release(broken)
    // A failed cleanup leaves committed rows: say so (CLEANUP_FAILED), unless an earlier error is on its way.
    if (removeTenants)
      await removeTenants().catch((error: unknown) => {
        if (!failed) throw error
      })
  }
}

/**
 * Like checkTenantIsolation, but throws a TenantIsolationError listing every
 * failing table with the reason: one line in any test runner.
 * @example test('tenants are isolated', () => assertTenantIsolation({ pool, adminPool }))
 */
export async function assertTenantIsolation(options: TenantIsolationOptions): Promise<TenantIsolationReport> {
  const report = await checkTenantIsolation(options)
  if (!report.ok) throw new TenantIsolationError('ISOLATION_FAILED', describeFailures(report), { report })
  return report
}

async function refusePrivilegedRole(client: KitClient): Promise<string> {
  const role = await loadRole(client)
  if (role.superuser || role.bypassrls) {
    throw new TenantIsolationError(
      'PRIVILEGED_ROLE',
      `The pool connects as ${role.name}, which is ${role.superuser ? 'a superuser' : 'BYPASSRLS'}: row level security does not apply ` +
        `to it, so isolation checks would pass without proving anything. Connect the pool as your application's role.`,
    )
  }
  return role.name
}

function selectTables(all: KitTable[], wanted: readonly string[] | undefined, tenantColumn: string): KitTable[] {
  if (all.length === 0) throw new TenantIsolationError('INVALID_OPTIONS', `No table has a column named ${tenantColumn}: pass tenantColumn`)
  if (!wanted || wanted.length === 0) return all.filter((table) => table.canSelect)
  return wanted.map((entry) => {
    const table = all.find((candidate) => matchesTable(candidate.name, entry))
    if (!table) throw new TenantIsolationError('INVALID_OPTIONS', `${entry} is not a table with a ${tenantColumn} column`)
    return table
  })
}

type Written = Map<number, Map<string, WrittenRow>>

async function writeRows(
  client: KitClient,
  context: {
    all: KitTable[]
    tested: KitTable[]
    tenantColumn: string
    ids: readonly string[]
    setTenant: (id: string) => Promise<unknown>
    factories: TenantIsolationOptions['factories']
    failures: IsolationFailure[]
  },
): Promise<Written> {
  const { all, tenantColumn } = context
  const tenantOids = new Set(all.map((table) => table.oid))
  // Parents before children, and only the tables the checked ones need.
  const order = parentsFirst(context.tested, all, (table) => requiredTenantKeys(table, tenantColumn, tenantOids))
  const written: Written = new Map()
  const reasons = new Map<number, string>()
  for (const id of context.ids) {
    await context.setTenant(id)
    for (const table of order) {
      if (reasons.has(table.oid)) continue
      const built = await buildInsert(
        client,
        {
          table,
          tenantColumn,
          tenantId: id,
          tenantOids,
          written: (oid) => written.get(oid)?.get(id),
          factory: factoryFor(context.factories, table.name),
        },
        true,
      )
      const result = built.ok ? await attempt(client, built.sql, built.values, true) : undefined
      if (!built.ok || !result?.ok) {
        const why = !built.ok ? built.reason : result && !result.ok ? `the INSERT failed: ${result.error.message}` : 'unknown'
        reasons.set(table.oid, `could not write a test row for a tenant, as that tenant: ${why}`)
        continue
      }
      const row = result.rows[0]
      const map = written.get(table.oid) ?? new Map<string, WrittenRow>()
      map.set(id, { tableoid: row.__tenantscope_tableoid, ctid: row.__tenantscope_ctid, values: row })
      written.set(table.oid, map)
    }
  }
  for (const table of context.tested) {
    const reason = reasons.get(table.oid)
    if (reason) context.failures.push({ table: table.name, check: 'setup', reason })
  }
  return written
}

function factoryFor(factories: TenantIsolationOptions['factories'], name: string) {
  if (!factories) return undefined
  const key = Object.keys(factories).find((entry) => matchesTable(name, entry))
  return key === undefined ? undefined : factories[key]
}

async function checkTable(
  client: KitClient,
  context: {
    table: KitTable
    all: KitTable[]
    tenantColumn: string
    a: string
    b: string
    rowA: WrittenRow
    rowB: WrittenRow
    setTenant: (id: string) => Promise<unknown>
    written: Written
    factories: TenantIsolationOptions['factories']
  },
): Promise<IsolationFailure[]> {
  const { table, tenantColumn, a, b, rowA, rowB } = context
  const failures: IsolationFailure[] = []
  const fail = (check: IsolationFailure['check'], reason: string) => failures.push({ table: table.name, check, reason })
  const column = quoteIdent(tenantColumn)
  const type = table.columns.find((candidate) => candidate.name === tenantColumn)!.type
  const at = (row: WrittenRow) => [row.tableoid, row.ctid]
  const where = 'tableoid = $1::oid AND ctid = $2::tid'
  const tenantOids = new Set(context.all.map((candidate) => candidate.oid))
  const insertFor = (tenantId: string, owner: string) =>
    buildInsert(
      client,
      {
        table,
        tenantColumn,
        tenantId,
        tenantOids,
        written: (oid) => context.written.get(oid)?.get(owner),
        factory: factoryFor(context.factories, table.name),
      },
      false,
    )

  await context.setTenant(a)
  const own = await attempt(client, `SELECT count(*)::int AS n FROM ${table.name} WHERE ${where}`, at(rowA))
  if (!own.ok || own.rows[0].n !== 1) {
    fail(
      'own_row_invisible',
      `tenant A cannot read the row it just wrote${own.ok ? '' : ` (${own.error.message})`}: the policies hide a tenant's own rows, so no other check could prove isolation`,
    )
  }
  const others = await attempt(client, `SELECT count(*)::int AS n FROM ${table.name} WHERE ${column}::text IS DISTINCT FROM $1`, [a])
  if (!others.ok) fail('cross_tenant_read', `reading as tenant A failed: ${others.error.message}`)
  else if (others.rows[0].n > 0) fail('cross_tenant_read', `tenant A sees ${others.rows[0].n} row(s) of other tenants`)

  // A's own rows, as A sees them: what an UPDATE or DELETE with no WHERE may touch.
  const mine = await attempt(client, `SELECT count(*)::int AS n FROM ${table.name} WHERE ${column}::text = $1`, [a])
  const ownCount = Math.max(1, mine.ok ? mine.rows[0].n : 1)
  if (table.canUpdate) {
    // No WHERE and a constant: the statement reads no column, so only the UPDATE policies
    // apply (a WHERE, even on ctid, adds the SELECT policies, which would hide B's row).
    const steal = await attempt(client, `UPDATE ${table.name} SET ${column} = $1::${type}`, [a])
    if (steal.ok && steal.rowCount > ownCount) fail('cross_tenant_update', "tenant A updated tenant B's row")
    else {
      const update = await attempt(client, `UPDATE ${table.name} SET ${column} = ${column} WHERE ${where}`, at(rowB))
      if (update.ok && update.rowCount > 0) fail('cross_tenant_update', "tenant A updated tenant B's row")
    }
    const move = await attempt(client, `UPDATE ${table.name} SET ${column} = $3::${type} WHERE ${where}`, [...at(rowA), b])
    if (move.ok && move.rowCount > 0)
      fail(
        'cross_tenant_move',
        `tenant A moved its own row to tenant B by setting ${tenantColumn}: UPDATE does not check the new row (WITH CHECK)`,
      )
  }
  if (table.canDelete) {
    // No WHERE, for the same reason: only the DELETE policies apply.
    const removeAll = await attempt(client, `DELETE FROM ${table.name}`)
    if (removeAll.ok && removeAll.rowCount > ownCount) fail('cross_tenant_delete', "tenant A deleted tenant B's row")
    else {
      const remove = await attempt(client, `DELETE FROM ${table.name} WHERE ${where}`, at(rowB))
      if (remove.ok && remove.rowCount > 0) fail('cross_tenant_delete', "tenant A deleted tenant B's row")
    }
  }
  if (table.canTruncate) {
    // Row level security does not apply to TRUNCATE; rolled back with its savepoint, like every attempt.
    const truncate = await attempt(client, `TRUNCATE ${table.name}`)
    fail(
      'cross_tenant_truncate',
      `role may TRUNCATE the table, and row level security does not apply to TRUNCATE: ${truncate.ok ? "tenant A emptied it, B's row included" : `any tenant can empty it (this time it failed: ${truncate.error.message})`}`,
    )
  }
  if (table.canInsert) {
    // B's id with B's parent rows, so that only the policy can refuse it. No RETURNING: it would add the SELECT policy.
    const foreign = await insertFor(b, b)
    if (foreign.ok) {
      const insert = await attempt(client, foreign.sql, foreign.values)
      if (insert.ok)
        fail(
          'cross_tenant_insert',
          `tenant A inserted a row carrying tenant B's ${tenantColumn}: INSERT does not check the new row (WITH CHECK)`,
        )
    }
  }

  await context.setTenant('')
  const none = await attempt(client, `SELECT count(*)::int AS n FROM ${table.name}`)
  if (!none.ok) fail('no_context_read', `with no tenant set, SELECT failed instead of returning no rows: ${none.error.message}`)
  else if (none.rows[0].n > 0) fail('no_context_read', `with no tenant set, SELECT sees ${none.rows[0].n} row(s)`)
  if (table.canInsert) {
    const orphan = await insertFor(a, a)
    if (orphan.ok) {
      const insert = await attempt(client, orphan.sql, orphan.values)
      if (insert.ok) fail('no_context_write', `with no tenant set, a row for tenant A was inserted`)
    }
  }
  return failures
}

async function checkView(
  client: KitClient,
  view: string,
  tenantColumn: string,
  a: string,
  setTenant: (id: string) => Promise<unknown>,
): Promise<IsolationFailure[]> {
  const failures: IsolationFailure[] = []
  const column = quoteIdent(tenantColumn)
  await setTenant(a)
  const others = await attempt(client, `SELECT count(*)::int AS n FROM ${view} WHERE ${column}::text IS DISTINCT FROM $1`, [a])
  if (others.ok && others.rows[0].n > 0) {
    failures.push({
      table: view,
      check: 'view_cross_tenant_read',
      reason: `tenant A sees ${others.rows[0].n} row(s) of other tenants through the view (it runs with its owner's rights: security_invoker)`,
    })
  }
  await setTenant('')
  const none = await attempt(client, `SELECT count(*)::int AS n FROM ${view} WHERE ${column} IS NOT NULL`)
  if (none.ok && none.rows[0].n > 0) {
    failures.push({
      table: view,
      check: 'view_cross_tenant_read',
      reason: `with no tenant set, the view shows ${none.rows[0].n} tenant row(s)`,
    })
  }
  return failures
}
