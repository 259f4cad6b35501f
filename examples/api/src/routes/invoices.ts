import { and, desc, eq } from 'drizzle-orm'
import { Router } from 'express'
import type { Database } from '../db.js'
import { badRequest, notFound } from '../http-errors.js'
import { invoices, projects } from '../schema.js'
import { currencyCode, page, paged, pathId } from '../validate.js'

const STATUSES = invoices.status.enumValues
type Status = (typeof STATUSES)[number]

export function invoiceRoutes(db: Database): Router {
  const router = Router()

  // GET /invoices?status=paid&projectId=...&limit=&offset=
  router.get('/', async (req, res) => {
    const p = page(req.query as Record<string, unknown>)
    const filters = []
    if (req.query.status !== undefined) filters.push(eq(invoices.status, status(req.query.status)))
    if (req.query.projectId !== undefined) filters.push(eq(invoices.projectId, pathId(req.query.projectId, 'project')))
    const rows = await db
      .select()
      .from(invoices)
      .where(and(...filters))
      .orderBy(desc(invoices.issuedAt), invoices.id)
      .limit(p.limit + 1)
      .offset(p.offset)
    res.json(paged(rows, p))
  })

  // POST /invoices { projectId, amountCents, currency?, status? }
  router.post('/', async (req, res) => {
    const projectId = pathId(req.body?.projectId, 'project')
    const amountCents = req.body?.amountCents
    if (!Number.isSafeInteger(amountCents) || amountCents < 0) throw badRequest('amountCents must be a non-negative integer')
    const currency = currencyCode(req.body?.currency ?? 'EUR')
    const result = await db.transaction(async (tx) => {
      // The project must be visible to this tenant: another tenant's project
      // id is a 404 here, and the composite foreign key would refuse it anyway.
      const [project] = await tx.select({ id: projects.id }).from(projects).where(eq(projects.id, projectId))
      if (!project) return undefined
      const [row] = await tx
        .insert(invoices)
        .values({ projectId, amountCents, currency, status: req.body?.status === undefined ? 'draft' : status(req.body.status) })
        .returning()
      return row
    })
    if (!result) throw notFound('project')
    res.status(201).json(result)
  })

  router.get('/:id', async (req, res) => {
    const [row] = await db
      .select()
      .from(invoices)
      .where(eq(invoices.id, pathId(req.params.id, 'invoice')))
    if (!row) throw notFound('invoice')
    res.json(row)
  })

  // PATCH /invoices/:id { status }
  router.patch('/:id', async (req, res) => {
    const [row] = await db
      .update(invoices)
      .set({ status: status(req.body?.status) })
      .where(eq(invoices.id, pathId(req.params.id, 'invoice')))
      .returning()
    if (!row) throw notFound('invoice')
    res.json(row)
  })

  return router
}

function status(value: unknown): Status {
  if (!STATUSES.includes(value as Status)) throw badRequest(`status must be one of ${STATUSES.join(', ')}`)
  return value as Status
}
