import type { Catalog, TenantTable, ViewInfo } from './catalog/index.js'
import type { Finding } from './finding.js'
import { isTenantScopedClause } from './policy-expression.js'
import { escapeRegExp, ident } from './sql-text.js'

/**
 * @internal Views and SECURITY DEFINER functions run with their owner's
 * rights: if the owner bypasses RLS (superuser, BYPASSRLS, or the table
 * owner without FORCE), so does everyone who calls them.
 */
export function checkViews(catalog: Catalog): Finding[] {
  const findings: Finding[] = []
  const tables = new Map(catalog.tables.map((table) => [table.oid, table]))
  const views = new Map(catalog.views.map((view) => [view.oid, view]))
  const filtered = tenantFilter(catalog)
  for (const view of catalog.views) {
    const over = view.tableOids.map((oid) => tables.get(oid)).filter((table) => table !== undefined)
    if (over.length === 0) continue
    // What the app role cannot read exposes nothing to it (the rollup's materialized view, kept out of reach).
    if (!view.canSelect) continue
    const names = over.map((table) => table.name).join(', ')
    if (view.kind === 'm') {
      findings.push({
        code: 'materialized_view_over_tenant_table',
        severity: 'error',
        objectType: 'view',
        object: view.name,
        table: over[0]!.name,
        why: `The materialized view stores rows of ${names} for every tenant, and materialized views have no row level security: ${catalog.role.name} reads all tenants' rows from it.`,
        fix:
          `-- Keep it out of the application role's reach, and let the app read it through a view that keeps the current\n` +
          `-- tenant's rows: createTenantRollup() of @tenantscope/router makes both (and refreshTenantRollup() refreshes it).\n` +
          revokeFrom(view, catalog),
      })
      continue
    }
    if (filtered(view)) {
      // The rollup's shape: every row it returns is the current tenant's, whoever owns it.
      if (!view.securityBarrier) {
        findings.push({
          code: 'tenant_view_without_security_barrier',
          severity: 'warning',
          objectType: 'view',
          object: view.name,
          table: over[0]!.name,
          why:
            'The view keeps the current tenant’s rows only, but without security_barrier the planner may evaluate a caller’s ' +
            'condition (a function that raises or logs its argument) on other tenants’ rows before the view’s filter.',
          fix: `ALTER VIEW ${view.name} SET (security_barrier = true);`,
        })
      }
      continue
    }
    const matview = unfilteredMaterializedView(view, views, filtered)
    // A view with the invoker's rights reaches the materialized view only if the app role may read it (reported above).
    if (matview !== undefined && !(view.securityInvoker && !matview.canSelect)) {
      findings.push({
        code: 'view_exposes_materialized_view',
        severity: 'error',
        objectType: 'view',
        object: view.name,
        table: over[0]!.name,
        why:
          `The view reads the materialized view ${matview.name}, which stores rows of ${names} for every tenant and has no ` +
          `row level security, without keeping only the current tenant's rows: ${catalog.role.name} reads all tenants through it ` +
          '(security_invoker does not help: there is no policy to apply).',
        fix:
          `-- Filter it to the current tenant (createTenantRollup() of @tenantscope/router makes such a view), or:\n` +
          revokeFrom(view, catalog),
      })
      continue
    }
    if (view.securityInvoker) continue
    const ownerBypasses = ownerBypassesRls(view, over)
    findings.push({
      code: 'view_without_security_invoker',
      severity: ownerBypasses ? 'error' : 'warning',
      objectType: 'view',
      object: view.name,
      table: over[0]!.name,
      why:
        `The view reads ${names} with the rights of its owner (${view.owner}), not of the querying role` +
        (ownerBypasses
          ? `, and that owner bypasses row level security: every tenant sees every tenant's rows through it.`
          : ': RLS holds only while that owner neither owns an unforced table nor gains BYPASSRLS.'),
      fix: `ALTER VIEW ${view.name} SET (security_invoker = true);`,
    })
  }
  for (const fn of catalog.functions) {
    const read = catalog.tables.filter((table) => mentions(fn.definition, table.name))
    if (read.length === 0) {
      // No tenant table named in it, but its owner bypasses RLS and the app may call it: dynamic SQL,
      // or a view or function it calls, reaches every tenant's rows with nothing to show for it here.
      if (fn.ownerBypasses && fn.canExecute && catalog.tables.length > 0) {
        findings.push({
          code: 'security_definer_owner_bypasses_rls',
          severity: 'warning',
          objectType: 'function',
          object: fn.name,
          why:
            `The SECURITY DEFINER function runs as ${fn.owner}, who bypasses row level security, and role ${catalog.role.name} may call ` +
            `it: whatever it reads (dynamic SQL, the views and functions it calls) it reads for every tenant. Make it SECURITY INVOKER, ` +
            `or give it an owner subject to RLS.`,
          fix: `ALTER FUNCTION ${fn.name} SECURITY INVOKER;`,
        })
      }
      continue
    }
    const ownerBypasses = ownerBypassesRls(fn, read)
    findings.push({
      code: 'security_definer_reads_tenant_table',
      severity: ownerBypasses ? 'error' : 'warning',
      objectType: 'function',
      object: fn.name,
      table: read[0]!.name,
      why:
        `The SECURITY DEFINER function reads ${read.map((table) => table.name).join(', ')} with the rights of its owner (${fn.owner})` +
        (ownerBypasses
          ? ", who bypasses row level security: any caller reaches every tenant's rows through it."
          : '; RLS holds only while that owner is subject to it.'),
      fix: `ALTER FUNCTION ${fn.name} SECURITY INVOKER;`,
    })
  }
  return findings
}

// A view or function runs with its owner's rights: those bypass RLS on these tables when the owner is superuser or
// BYPASSRLS, or owns one of them without FORCE.
function ownerBypassesRls(object: { owner: string; ownerBypasses: boolean }, tables: TenantTable[]): boolean {
  return object.ownerBypasses || tables.some((table) => table.owner === object.owner && !table.forced)
}

// Matches `invoices`, `public.invoices` and quoted spellings as whole words.
function mentions(definition: string, qualifiedName: string): boolean {
  const bare = qualifiedName.slice(qualifiedName.lastIndexOf('.') + 1).replace(/^"|"$/g, '')
  return new RegExp(`(^|[^\\w$"])"?${escapeRegExp(bare)}"?(?=$|[^\\w$"])`, 'i').test(definition)
}

/**
 * A view whose every row is the current tenant's: one relation, no set
 * operation, and a top-level WHERE that compares the tenant column with the
 * tenant setting (the shape createTenantRollup makes, as pg_get_viewdef prints
 * it). Anything else is not recognised, so it is judged like any other view.
 */
function tenantFilter(catalog: Catalog): (view: ViewInfo) => boolean {
  const setting = new RegExp(`current_setting\\(\\s*'${escapeRegExp(catalog.setting)}'`, 'i')
  const helper = /\btenantscope\.current_tenant(_id)?\(/i
  const matchers = { tenantColumn: catalog.tenantColumn, readsTenant: (text: string) => setting.test(text) || helper.test(text) }
  return (view) => {
    const shape = /^\s*SELECT\b([\s\S]*?)\n\s*FROM\s+([^\n]+)\n\s*WHERE\s+([\s\S]+?);?\s*$/i.exec(view.definition)
    if (shape === null || /\b(UNION|INTERSECT|EXCEPT)\b/i.test(view.definition)) return false
    const [, columns, from, where] = shape as unknown as [string, string, string, string]
    // A sub-select in the column list, or a second relation, could read other tenants' rows past the filter.
    if (/\bSELECT\b/i.test(columns) || /\bJOIN\b|,|\(/i.test(from)) return false
    const clause = where.split(/\n\s*(?:GROUP BY|HAVING|ORDER BY|LIMIT|OFFSET|WINDOW)\b/i)[0]!
    return isTenantScopedClause(clause, matchers)
  }
}

// The materialized view over tenant tables that this view reads, directly or through views that do not filter.
function unfilteredMaterializedView(
  view: ViewInfo,
  views: Map<number, ViewInfo>,
  filtered: (view: ViewInfo) => boolean,
  seen = new Set<number>(),
): ViewInfo | undefined {
  seen.add(view.oid)
  for (const oid of view.readsOids) {
    const read = views.get(oid)
    if (read === undefined || seen.has(oid)) continue
    if (read.kind === 'm') return read
    if (filtered(read)) continue
    const found = unfilteredMaterializedView(read, views, filtered, seen)
    if (found) return found
  }
  return undefined
}

// Everyone whose grant lets the app role read it (a group role such as tenantscope_app: all its members lose it), and PUBLIC.
function revokeFrom(view: ViewInfo, catalog: Catalog): string {
  const grantees = new Set([...view.selectGrantees, ident(catalog.role.name), 'PUBLIC'])
  return `REVOKE ALL ON ${view.name} FROM ${[...grantees].join(', ')};`
}
