import { withTenant } from '@tenantscope/core'
import { tenantDrizzle } from '@tenantscope/drizzle'
import { count, desc, eq, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import { bigint, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import type pg from 'pg'
import { MODE_LABELS, type Mode } from './modes.js'
import type { Operation } from './workloads.js'

// The example schema's tables as a Drizzle user declares them. The tenant
// column is left to its database default (the current tenant).
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

/** The workloads through Drizzle's query builder over tenantDrizzle(drizzle(pool)). */
export async function createDrizzleMode(appPool: pg.Pool): Promise<Mode> {
  const db = tenantDrizzle(drizzle(appPool))
  type Db = typeof db
  type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

  const statement = (runner: Db | Tx, workload: string, index: number, values: readonly unknown[]): Promise<unknown> => {
    const [a, b] = values as [string, number]
    if (workload === 'point') {
      return runner
        .select({ id: projects.id, name: projects.name, ownerId: projects.ownerId, createdAt: projects.createdAt })
        .from(projects)
        .where(eq(projects.id, a))
    }
    if (workload === 'top10') {
      return runner
        .select({ id: projects.id, name: projects.name, createdAt: projects.createdAt })
        .from(projects)
        .orderBy(desc(projects.createdAt))
        .limit(10)
    }
    if (workload === 'insert' || (workload === 'tx3' && index === 1)) {
      return runner.insert(invoices).values({ projectId: a, amountCents: b })
    }
    if (workload === 'tx3' && index === 0) return runner.select({ n: count() }).from(invoices).where(eq(invoices.projectId, a))
    if (workload === 'tx3' && index === 2) {
      return runner
        .update(projects)
        .set({ name: sql`'project ' || ${b}` })
        .where(eq(projects.id, a))
    }
    throw new Error(`no Drizzle statement for ${workload}#${index}`)
  }

  return {
    name: 'drizzle',
    label: MODE_LABELS.drizzle!,
    run: (operation: Operation, workload: string) =>
      withTenant(operation.tenantId, async () => {
        if (!operation.transaction) {
          await statement(db, workload, 0, operation.statements[0]!.scoped.values)
          return
        }
        await db.transaction(async (tx) => {
          for (const [index, { scoped }] of operation.statements.entries()) await statement(tx, workload, index, scoped.values)
        })
      }),
  }
}
