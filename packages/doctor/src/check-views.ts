import type { Catalog, TenantTable } from './catalog/index.js'
import type { Finding } from './finding.js'
import { escapeRegExp } from './sql-text.js'

/**
 * @internal Views and SECURITY DEFINER functions run with their owner's
 * rights: if the owner bypasses RLS (superuser, BYPASSRLS, or the table
 * owner without FORCE), so does everyone who calls them.
 */
export function checkViews(catalog: Catalog): Finding[] {
  const findings: Finding[] = []
  const tables = new Map(catalog.tables.map((table) => [table.oid, table]))
  for (const view of catalog.views) {
    const over = view.tableOids.map((oid) => tables.get(oid)).filter((table) => table !== undefined)
    if (over.length === 0) continue
    const names = over.map((table) => table.name).join(', ')
    if (view.kind === 'm') {
      findings.push({
        code: 'materialized_view_over_tenant_table',
        severity: 'error',
        objectType: 'view',
        object: view.name,
        table: over[0]!.name,
        why: `The materialized view stores rows of ${names} for every tenant, and materialized views have no row level security: whoever may read it reads all tenants.`,
        fix: `-- keep it away from the application role, or replace it with a tenant table that has RLS\nREVOKE ALL ON ${view.name} FROM ${catalog.role.name}, PUBLIC;`,
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
