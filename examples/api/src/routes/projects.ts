import { desc, eq } from 'drizzle-orm'
import { Router } from 'express'
import type { Database } from '../db.js'
import { notFound } from '../http-errors.js'
import { projects } from '../schema.js'
import { optionalUuid, page, paged, pathId, requiredText } from '../validate.js'

// No route filters by tenant: RLS does, in the database. A project id of
// another tenant matches no row, so it is a 404 like an id that never existed.
export function projectRoutes(db: Database): Router {
  const router = Router()

  router.get('/', async (req, res) => {
    const p = page(req.query as Record<string, unknown>)
    const rows = await db
      .select()
      .from(projects)
      .orderBy(desc(projects.createdAt), projects.id)
      .limit(p.limit + 1)
      .offset(p.offset)
    res.json(paged(rows, p))
  })

  router.post('/', async (req, res) => {
    const name = requiredText(req.body?.name, 'name')
    const ownerId = optionalUuid(req.body?.ownerId, 'ownerId')
    const [row] = await db.insert(projects).values({ name, ownerId }).returning()
    res.status(201).json(row)
  })

  router.get('/:id', async (req, res) => {
    const id = pathId(req.params.id, 'project')
    const [row] = await db.select().from(projects).where(eq(projects.id, id))
    if (!row) throw notFound('project')
    res.json(row)
  })

  router.patch('/:id', async (req, res) => {
    const id = pathId(req.params.id, 'project')
    const name = requiredText(req.body?.name, 'name')
    const [row] = await db.update(projects).set({ name }).where(eq(projects.id, id)).returning()
    if (!row) throw notFound('project')
    res.json(row)
  })

  router.delete('/:id', async (req, res) => {
    const id = pathId(req.params.id, 'project')
    const deleted = await db.delete(projects).where(eq(projects.id, id)).returning({ id: projects.id })
    if (deleted.length === 0) throw notFound('project')
    res.status(204).end()
  })

  return router
}
