import { tenantPredicate } from '@tenantscope/sql'
import type { Catalog, Policy, TenantTable } from './catalog/index.js'
import type { Finding, FindingCode, Severity } from './finding.js'
import { callsPerRow, isShippedPredicate, isTenantScopedClause } from './policy-expression.js'
import { escapeRegExp, ident } from './sql-text.js'
import { policySql } from './tenant-expression.js'

/**
 * @internal Reads each policy's expression (as PostgreSQL prints it back) and
 * the source of the functions it calls: does it compare the bare tenant column
 * with the setting, read the setting safely, and check writes?
 */
export function checkPolicies(catalog: Catalog): Finding[] {
  const findings: Finding[] = []
  const patterns = policyPatterns(catalog)
  for (const table of catalog.tables) {
    if (!table.rls) continue
    for (const policy of catalog.policies) {
      if (policy.tableOid !== table.oid || !policy.appliesToRole) continue
      findings.push(...checkPolicy(catalog, table, policy, patterns))
    }
  }
  return findings
}

interface Patterns {
  tenantSetting: RegExp
  helper: RegExp
  anySetting: RegExp
  bareColumn: RegExp
  castColumn: RegExp
  withoutMissingOk: RegExp
  withoutNullif: RegExp
}

function policyPatterns(catalog: Catalog): Patterns {
  const setting = escapeRegExp(catalog.setting)
  const column = escapeRegExp(ident(catalog.tenantColumn))
  return {
    tenantSetting: new RegExp(`current_setting\\(\\s*'${setting}'`, 'i'),
    helper: /\btenantscope\.current_tenant(_id)?\(/i,
    anySetting: /current_setting\(\s*'([^']+)'/gi,
    bareColumn: new RegExp(`(^|[\\s(,])${column}\\s*(=|IN\\b)|=\\s*${column}(?=$|[\\s),])`, 'i'),
    castColumn: new RegExp(`\\(${column}\\)::|(^|[\\s(,])${column}::`, 'i'),
    withoutMissingOk: new RegExp(`current_setting\\(\\s*'${setting}'(\\s*::\\s*text)?\\s*\\)`, 'i'),
    withoutNullif: new RegExp(
      `current_setting\\(\\s*'${setting}'(\\s*::\\s*text)?\\s*,\\s*true\\s*\\)\\s*\\)?\\s*::\\s*(?!text\\b)[a-z]`,
      'i',
    ),
  }
}

function checkPolicy(catalog: Catalog, table: TenantTable, policy: Policy, patterns: Patterns): Finding[] {
  // The policy tenantscope ships, as @tenantscope/sql builds it: nothing to say.
  const shipped = tenantPredicate(ident(catalog.tenantColumn), { setting: catalog.setting, columnType: table.columnType })
  if (policy.cmd === '*' && isShippedPredicate(policy.using, shipped) && isShippedPredicate(policy.check, shipped)) return []
  const object = `${ident(policy.name)} ON ${table.name}`
  const sources = policy.functionSources.join('\n')
  // When a function the policy calls reads the setting, an expression that calls a function reads the tenant through it.
  const sourcesReadTenant = patterns.tenantSetting.test(sources)
  const referencesTenant = (expression: string | null) =>
    expression !== null &&
    (patterns.tenantSetting.test(expression) || patterns.helper.test(expression) || (sourcesReadTenant && /\w\(/.test(expression)))
  const matchers = { tenantColumn: catalog.tenantColumn, readsTenant: referencesTenant }
  // Judged one clause at a time: a correct WITH CHECK must not hide a USING that lets every row through.
  const scoped = (expression: string | null) => expression !== null && isTenantScopedClause(expression, matchers)
  const otherSettings = (expression: string | null) =>
    [...`${expression ?? ''}\n${sources}`.matchAll(patterns.anySetting)]
      .map((match) => match[1]!)
      .filter((name) => name !== catalog.setting)
  const command = ({ r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE', '*': 'ALL' } as const)[policy.cmd]
  const replace = `DROP POLICY ${ident(policy.name)} ON ${table.name};\n${policySql(catalog, table, command, policy.name)}`
  const found = new Map<FindingCode, Finding>()
  const add = (code: FindingCode, severity: Severity, why: string, fix?: string) => {
    if (!found.has(code))
      found.set(code, { code, severity, objectType: 'policy', object, table: table.name, why, ...(fix === undefined ? {} : { fix }) })
  }

  if (policy.permissive) {
    // What the policy lets through: rows it shows, and rows it lets be written.
    // A permissive policy is OR-ed with the others, so any hole in one is a hole in all.
    const clauses: { label: string; expression: string | null }[] = []
    if (policy.cmd !== 'a') clauses.push({ label: 'USING', expression: policy.using })
    if (policy.cmd === 'a' || policy.cmd === 'w' || policy.cmd === '*') {
      clauses.push({ label: 'WITH CHECK', expression: policy.check ?? (policy.cmd === 'a' ? null : policy.using) })
    }
    for (const { label, expression } of clauses) {
      const bypass = otherSettings(expression)
      if (bypass.length > 0 && (!referencesTenant(expression) || /\bOR\b/i.test(expression ?? ''))) {
        add(
          'policy_bypass_setting',
          'error',
          `The policy also passes on the setting ${bypass[0]}: any SQL on the connection can set it (set_config is not a privilege), so it unlocks every tenant's rows. Cross-tenant work belongs on a separate pool whose role has BYPASSRLS.`,
          replace,
        )
      } else if (!referencesTenant(expression)) {
        const write = label === 'WITH CHECK'
        add(
          write ? 'policy_write_unchecked' : 'policy_not_tenant_scoped',
          'error',
          write
            ? `The policy lets rows be written without checking the tenant (${expression === null ? 'no WITH CHECK' : `WITH CHECK (${expression})`}): a tenant can insert or move rows into another tenant.`
            : `The policy shows rows without comparing ${catalog.tenantColumn} with the tenant setting (USING (${expression ?? 'true'})), and permissive policies are OR-ed: every tenant sees every row.`,
          replace,
        )
      } else if (!scoped(expression)) {
        add(
          'policy_unrecognized',
          'error',
          `The policy's ${label} (${expression}) reads the tenant setting but is not ${catalog.tenantColumn} = <the tenant setting> (alone or AND-ed with other conditions): an OR, a <>, an IS [NOT] NULL or COALESCE on the setting, or another column can let rows of other tenants (or every row when no tenant is set) through, and permissive policies are OR-ed with each other.`,
          replace,
        )
      }
    }
    if (policy.check === null && (policy.cmd === '*' || policy.cmd === 'w') && scoped(policy.using)) {
      add(
        'policy_implicit_with_check',
        'info',
        'The policy has no WITH CHECK, so PostgreSQL checks written rows with its USING expression. That is safe, but an explicit WITH CHECK states the intent and survives edits to USING.',
        `ALTER POLICY ${ident(policy.name)} ON ${table.name} WITH CHECK (${policy.using});`,
      )
    }
  }

  const expressions = [policy.using, policy.check].filter((expression): expression is string => expression !== null)
  if (expressions.some((expression) => patterns.castColumn.test(expression))) {
    add(
      'policy_casts_tenant_column',
      'warning',
      `The policy casts ${catalog.tenantColumn} (${expressions.find((e) => patterns.castColumn.test(e))}): an expression on the column cannot use the tenant-first index, so every query scans every tenant's rows. Cast the setting instead.`,
      replace,
    )
  } else if (
    !found.has('policy_unrecognized') &&
    expressions.some((expression) => referencesTenant(expression)) &&
    !expressions.some((expression) => patterns.bareColumn.test(expression))
  ) {
    add(
      'policy_no_bare_tenant_column',
      'warning',
      `The policy reads the tenant setting but never compares the bare column ${catalog.tenantColumn} with it (${expressions[0]}), so the tenant-first index cannot be used and the intent is hard to verify.`,
      replace,
    )
  }
  const all = `${expressions.join('\n')}\n${sources}`
  if (patterns.withoutMissingOk.test(all)) {
    add(
      'policy_setting_without_missing_ok',
      'warning',
      `The policy reads current_setting('${catalog.setting}') without missing_ok: on a connection where the setting was never set, queries fail with "unrecognized configuration parameter" instead of returning no rows.`,
      replace,
    )
  }
  if (patterns.withoutNullif.test(all)) {
    add(
      'policy_setting_without_nullif',
      'warning',
      `The policy casts current_setting('${catalog.setting}', true) without NULLIF(..., ''): once a pooled connection has carried a tenant, the setting reads '' after the transaction, and the cast fails every later query without a tenant instead of returning no rows.`,
      replace,
    )
  }
  // The setting read per row: a call outside a sub-select is evaluated for every row the query looks at.
  const readers = new Set(['current_setting', 'tenantscope.current_tenant', 'tenantscope.current_tenant_id'])
  for (const fn of policy.functions) {
    if (!fn.name.startsWith('operator ') && patterns.tenantSetting.test(fn.source)) readers.add(fn.name.toLowerCase())
  }
  const reads = (name: string) => readers.has(name) || [...readers].some((reader) => reader.endsWith(`.${name}`))
  const perRow = expressions.flatMap((expression) => callsPerRow(expression, reads))
  // Citus refuses sub-selects in policies on the tables it manages: there the plain comparison is the right form.
  const citusManaged = catalog.citus?.distributed.has(table.name) ?? false
  if (perRow.length > 0 && !citusManaged && !found.has('policy_unrecognized') && !found.has('policy_not_tenant_scoped')) {
    add(
      'policy_function_per_row',
      'warning',
      `The policy calls ${perRow[0]}() outside a sub-select, so it runs once for every row a query reads; written as (SELECT ` +
        `${perRow[0]}(...)) it is an InitPlan that runs once per statement, and the tenant-first index can be used.`,
      replace,
    )
  }
  // LEAKPROOF: a function that is not may put the values it is given into an error message, and a
  // policy runs on every tenant's rows before it filters them out. (Built-in functions never show here:
  // PostgreSQL records no dependency on them.)
  const leaky = policy.functions.filter(
    (fn) => !fn.leakproof && fn.args > 0 && !reads(fn.name.toLowerCase()) && !patterns.tenantSetting.test(fn.source),
  )
  if (leaky.length > 0) {
    add(
      'policy_non_leakproof_function',
      'warning',
      `The policy calls ${leaky.map((fn) => fn.name).join(', ')}, which ${leaky.length === 1 ? 'is' : 'are'} not LEAKPROOF: the ` +
        `policy runs on other tenants' rows too (before the tenant comparison filters them), and an error such a function raises can ` +
        `carry those rows' values to the caller.`,
      // Marking a function LEAKPROOF is a promise only its author can make (and needs a superuser).
    )
  }
  return [...found.values()]
}
