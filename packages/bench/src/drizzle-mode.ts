import { withTenant } from '@tenantscope/core'
import { tenantDrizzle } from '@tenantscope/drizzle'
import { and, count, desc, eq, type SQL, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import { bigint, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import type pg from 'pg'
import { MODE_LABELS, type Mode } from './modes.js'
import type { Operation } from './workloads.js'

// The example schema's tables as a Drizzle user declares them. The tenant
// column is left to its database default (the current tenant) when scoped.
const projects = pgTable('projects', {
  tenantId: uuid('tenant_id'),
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  ownerId: uuid('owner_id'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
})

const invoices = pgTable('invoices', {
  tenantId: uuid('tenant_id'),
  id: uuid('id').defaultRandom(),
  projectId: uuid('project_id').notNull(),
  amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
})

type Db = ReturnType<typeof drizzle>
type Runner = Pick<Db, 'select' | 'insert' | 'update'>

/**
 * The workloads through Drizzle's query builder, the same builder calls for
 * both modes. `tenant` is undefined when scoped (RLS and the column default
 * supply it) and the tenant id for raw Drizzle, which must filter and insert
 * it itself, as raw pg does.
 */
function statement(
  runner: Runner,
  workload: string,
  index: number,
  values: readonly unknown[],
  tenant: string | undefined,
): Promise<unknown> {
  const [a, b] = values as [string, number]
  const scoped = (column: typeof projects.tenantId | typeof invoices.tenantId, condition: SQL) =>
    tenant === undefined ? condition : and(eq(column, tenant), condition)!
  if (workload === 'point') {
    return runner
      .select({ id: projects.id, name: projects.name, ownerId: projects.ownerId, createdAt: projects.createdAt })
      .from(projects)
      .where(scoped(projects.tenantId, eq(projects.id, a)))
  }
  if (workload === 'top10') {
    const query = runner.select({ id: projects.id, name: projects.name, createdAt: projects.createdAt }).from(projects)
    return (tenant === undefined ? query : query.where(eq(projects.tenantId, tenant))).orderBy(desc(projects.createdAt)).limit(10)
  }
  if (workload === 'insert' || (workload === 'tx3' && index === 1)) {
    return runner
      .insert(invoices)
      .values(tenant === undefined ? { projectId: a, amountCents: b } : { tenantId: tenant, projectId: a, amountCents: b })
  }
  if (workload === 'tx3' && index === 0) {
    return runner
      .select({ n: count() })
      .from(invoices)
      .where(scoped(invoices.tenantId, eq(invoices.projectId, a)))
  }
  if (workload === 'tx3' && index === 2) {
    return runner
      .update(projects)
      .set({ name: sql`'project ' || ${b}` })
      .where(scoped(projects.tenantId, eq(projects.id, a)))
  }
  throw new Error(`no Drizzle statement for ${workload}#${index}`)
}

/**
 * Raw Drizzle over a pool of the raw role (BYPASSRLS, explicit tenant_id),
 * or tenantDrizzle over a pool of the application role.
 */
export function createDrizzleMode(name: 'drizzle' | 'drizzle-raw', pool: pg.Pool): Mode {
  if (name === 'drizzle-raw') {
    const raw = drizzle(pool)
    return {
      name,
      label: MODE_LABELS['drizzle-raw']!,
      run: async (operation: Operation, workload: string) => {
        const values = (index: number) => operation.statements[index]!.scoped.values
        if (!operation.transaction) {
          await statement(raw, workload, 0, values(0), operation.tenantId)
          return
        }
        await raw.transaction(async (tx) => {
          for (let index = 0; index < operation.statements.length; index++)
            await statement(tx, workload, index, values(index), operation.tenantId)
        })
      },
    }
  }
  const db = tenantDrizzle(drizzle(pool))
  return {
    name,
    label: MODE_LABELS.drizzle!,
    run: (operation: Operation, workload: string) =>
      withTenant(operation.tenantId, async () => {
        const values = (index: number) => operation.statements[index]!.scoped.values
        if (!operation.transaction) {
          await statement(db as unknown as Runner, workload, 0, values(0), undefined)
          return
        }
        await db.transaction(async (tx) => {
          for (let index = 0; index < operation.statements.length; index++)
            await statement(tx as unknown as Runner, workload, index, values(index), undefined)
        })
      }),
  }
}
