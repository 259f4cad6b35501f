import { randomUUID } from 'node:crypto'
import { sameLoginOn } from '@tenantscope/example-api'
import type { TenantEntry, TenantStrategy } from '@tenantscope/router'
import pg from 'pg'

export interface SeedInvoice {
  amountCents: number
  status: 'draft' | 'sent' | 'paid'
}

export interface SeedTenant {
  id: string
  name: string
  /** Where it lives: the shared tables under RLS, a schema of its own, a database of its own. */
  kind: TenantStrategy
  /** Names its schema or database. */
  key: string
  users: { email: string; name: string }[]
  projects: { id: string; name: string; invoices: SeedInvoice[] }[]
}

const inv = (amountCents: number, status: SeedInvoice['status']): SeedInvoice => ({ amountCents, status })

/** Three companies, one of each kind, with users, projects and invoices (all in EUR). */
export function demoTenants(): SeedTenant[] {
  const tenant = (name: string, kind: TenantStrategy, users: [string, string][], projects: [string, SeedInvoice[]][]): SeedTenant => ({
    id: randomUUID(),
    name,
    kind,
    key: name.split(' ')[0]!.toLowerCase(),
    users: users.map(([email, userName]) => ({ email, name: userName })),
    projects: projects.map(([projectName, invoices]) => ({ id: randomUUID(), name: projectName, invoices })),
  })
  return [
    tenant(
      'Acme Corporation',
      'pool',
      [
        ['wile@acme.test', 'Wile E. Coyote'],
        ['road@acme.test', 'Road Runner'],
      ],
      [
        ['Rocket Sled v2', [inv(1_250_000, 'paid'), inv(480_000, 'sent')]],
        ['Giant Magnet', [inv(99_900, 'paid')]],
        ['Anvil Logistics', [inv(325_050, 'draft'), inv(74_900, 'sent'), inv(12_000, 'paid')]],
      ],
    ),
    tenant(
      'Globex Inc.',
      'schema',
      [
        ['hank@globex.test', 'Hank Scorpio'],
        ['homer@globex.test', 'Homer Simpson'],
      ],
      [
        ['Cypress Creek Campus', [inv(2_000_000, 'paid'), inv(1_500_000, 'sent')]],
        ['Hammock District', [inv(45_000, 'draft')]],
      ],
    ),
    tenant(
      'Initech',
      'database',
      [
        ['peter@initech.test', 'Peter Gibbons'],
        ['milton@initech.test', 'Milton Waddams'],
        ['bill@initech.test', 'Bill Lumbergh'],
      ],
      [
        ['TPS Report Automation', [inv(150_000, 'paid'), inv(150_000, 'paid'), inv(60_000, 'sent')]],
        ['Printer Replacement', [inv(89_999, 'sent')]],
        ['Red Stapler Recall', []],
      ],
    ),
  ]
}

/** Totals per status, as the worker's report should find them. */
export function expectedTotals(tenant: SeedTenant): { count: number; paid: number; sent: number; draft: number; all: number } {
  const totals = { count: 0, paid: 0, sent: 0, draft: 0, all: 0 }
  for (const project of tenant.projects) {
    for (const invoice of project.invoices) {
      totals.count++
      totals[invoice.status] += invoice.amountCents
      totals.all += invoice.amountCents
    }
  }
  return totals
}

/**
 * Inserts each tenant's users, projects and invoices as the owner, where the
 * tenant lives (its row of `tenants` was made by the setup): the shared
 * tables, its schema, or its database. One transaction per tenant.
 */
export async function seed(adminUrl: string, tenants: SeedTenant[], entries: readonly TenantEntry[]): Promise<void> {
  for (const tenant of tenants) {
    const entry = entries.find((e) => e.tenantId === tenant.id)!
    const client = new pg.Client({
      connectionString: entry.database ? sameLoginOn(adminUrl, entry.database) : adminUrl,
      ...(entry.schema ? { options: `-c search_path=${entry.schema}` } : {}),
    })
    await client.connect()
    try {
      await client.query('BEGIN')
      for (const user of tenant.users) {
        await client.query('INSERT INTO users (tenant_id, email, name) VALUES ($1, $2, $3)', [tenant.id, user.email, user.name])
      }
      for (const project of tenant.projects) {
        await client.query('INSERT INTO projects (tenant_id, id, name) VALUES ($1, $2, $3)', [tenant.id, project.id, project.name])
        for (const invoice of project.invoices) {
          await client.query('INSERT INTO invoices (tenant_id, project_id, amount_cents, status) VALUES ($1, $2, $3, $4)', [
            tenant.id,
            project.id,
            invoice.amountCents,
            invoice.status,
          ])
        }
      }
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      await client.end()
    }
  }
}
