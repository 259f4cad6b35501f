import { getTenantId } from '@tenantscope/core'
import { and, eq, sql } from 'drizzle-orm'
import type { NodePgDatabase } from 'drizzle-orm/node-postgres'
import { invoices, projects } from './schema.js'

export interface InvoiceReport {
  tenantId: string
  currency: string | null
  invoiceCount: number
  totals: { draft: number; sent: number; paid: number; all: number }
  byProject: { projectId: string; projectName: string; invoiceCount: number; totalCents: number }[]
  generatedAt: string
}

/**
 * The invoice totals of the current tenant, in amount_cents. Run inside
 * withTenant (the worker's tenantJob does it): the queries name no tenant,
 * RLS restricts them to the tenant's rows. Both statements share one
 * read-only, repeatable-read transaction (and one tenant setting).
 */
export async function invoiceReport(db: NodePgDatabase, options: { currency?: string } = {}): Promise<InvoiceReport> {
  const tenantId = getTenantId()
  const filter = options.currency ? eq(invoices.currency, options.currency) : undefined
  return db.transaction(
    async (tx) => {
      const [totals] = await tx
        .select({
          count: sql<number>`count(*)::int`,
          draft: sql<number>`coalesce(sum(${invoices.amountCents}) filter (where ${invoices.status} = 'draft'), 0)::bigint`.mapWith(Number),
          sent: sql<number>`coalesce(sum(${invoices.amountCents}) filter (where ${invoices.status} = 'sent'), 0)::bigint`.mapWith(Number),
          paid: sql<number>`coalesce(sum(${invoices.amountCents}) filter (where ${invoices.status} = 'paid'), 0)::bigint`.mapWith(Number),
          all: sql<number>`coalesce(sum(${invoices.amountCents}), 0)::bigint`.mapWith(Number),
        })
        .from(invoices)
        .where(filter)
      const byProject = await tx
        .select({
          projectId: projects.id,
          projectName: projects.name,
          invoiceCount: sql<number>`count(${invoices.id})::int`,
          totalCents: sql<number>`coalesce(sum(${invoices.amountCents}), 0)::bigint`.mapWith(Number),
        })
        .from(projects)
        .leftJoin(invoices, and(eq(invoices.tenantId, projects.tenantId), eq(invoices.projectId, projects.id), filter))
        .groupBy(projects.id, projects.name)
        .orderBy(projects.name)
      return {
        tenantId,
        currency: options.currency ?? null,
        invoiceCount: totals?.count ?? 0,
        totals: { draft: totals?.draft ?? 0, sent: totals?.sent ?? 0, paid: totals?.paid ?? 0, all: totals?.all ?? 0 },
        byProject,
        generatedAt: new Date().toISOString(),
      }
    },
    // One snapshot for both statements: the totals and the rows agree.
    { accessMode: 'read only', isolationLevel: 'repeatable read' },
  )
}
