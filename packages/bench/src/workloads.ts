import type { Tenant } from './seed.js'

/** One statement, as the scoped modes send it (RLS adds the tenant) and as raw pg must (explicit tenant_id). */
export interface Statement {
  readonly scoped: { text: string; values: unknown[] }
  readonly raw: { text: string; values: unknown[] }
}

export interface Operation {
  readonly tenantId: string
  /** One statement alone, or several in one transaction. */
  readonly transaction: boolean
  readonly statements: readonly Statement[]
}

export interface Workload {
  readonly name: string
  readonly label: string
  /** Reads are held to the read targets (≥ 0.95 through the proxy, ≥ 0.85 on loopback). */
  readonly read: boolean
  next(pick: Picker): Operation
}

export interface Picker {
  tenant(): Tenant
  project(tenant: Tenant): string
  int(max: number): number
}

export function createPicker(tenants: readonly Tenant[]): Picker {
  const int = (max: number) => Math.floor(Math.random() * max)
  return {
    int,
    tenant: () => tenants[int(tenants.length)]!,
    project: (tenant) => tenant.projectIds[int(tenant.projectIds.length)]!,
  }
}

const pointRead: Workload = {
  name: 'point',
  label: 'point read by key',
  read: true,
  next(pick) {
    const tenant = pick.tenant()
    const id = pick.project(tenant)
    return {
      tenantId: tenant.id,
      transaction: false,
      statements: [
        {
          scoped: { text: 'SELECT id, name, owner_id, created_at FROM projects WHERE id = $1', values: [id] },
          raw: { text: 'SELECT id, name, owner_id, created_at FROM projects WHERE tenant_id = $1 AND id = $2', values: [tenant.id, id] },
        },
      ],
    }
  },
}

const top10: Workload = {
  name: 'top10',
  label: 'top-10 recent rows (tenant-first index)',
  read: true,
  next(pick) {
    const tenant = pick.tenant()
    return {
      tenantId: tenant.id,
      transaction: false,
      statements: [
        {
          scoped: { text: 'SELECT id, name, created_at FROM projects ORDER BY created_at DESC LIMIT 10', values: [] },
          raw: {
            text: 'SELECT id, name, created_at FROM projects WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 10',
            values: [tenant.id],
          },
        },
      ],
    }
  },
}

const insert: Workload = {
  name: 'insert',
  label: 'single-row insert',
  read: false,
  next(pick) {
    const tenant = pick.tenant()
    const project = pick.project(tenant)
    const amount = pick.int(100_000)
    return {
      tenantId: tenant.id,
      transaction: false,
      statements: [
        {
          scoped: { text: 'INSERT INTO invoices (project_id, amount_cents) VALUES ($1, $2)', values: [project, amount] },
          raw: {
            text: 'INSERT INTO invoices (tenant_id, project_id, amount_cents) VALUES ($1, $2, $3)',
            values: [tenant.id, project, amount],
          },
        },
      ],
    }
  },
}

const tx3: Workload = {
  name: 'tx3',
  label: '3-statement transaction',
  read: false,
  next(pick) {
    const tenant = pick.tenant()
    const project = pick.project(tenant)
    const amount = pick.int(100_000)
    return {
      tenantId: tenant.id,
      transaction: true,
      statements: [
        {
          scoped: { text: 'SELECT count(*) FROM invoices WHERE project_id = $1', values: [project] },
          raw: { text: 'SELECT count(*) FROM invoices WHERE tenant_id = $1 AND project_id = $2', values: [tenant.id, project] },
        },
        {
          scoped: { text: 'INSERT INTO invoices (project_id, amount_cents) VALUES ($1, $2)', values: [project, amount] },
          raw: {
            text: 'INSERT INTO invoices (tenant_id, project_id, amount_cents) VALUES ($1, $2, $3)',
            values: [tenant.id, project, amount],
          },
        },
        {
          scoped: { text: `UPDATE projects SET name = 'project ' || $2 WHERE id = $1`, values: [project, amount] },
          raw: {
            text: `UPDATE projects SET name = 'project ' || $3 WHERE tenant_id = $1 AND id = $2`,
            values: [tenant.id, project, amount],
          },
        },
      ],
    }
  },
}

export const WORKLOADS: readonly Workload[] = [pointRead, top10, insert, tx3]
