import { asc, eq } from 'drizzle-orm'
import { Router } from 'express'
import type { Database } from '../db.js'
import { badRequest, HttpError, notFound } from '../http-errors.js'
import { users } from '../schema.js'
import { page, paged, pathId, requiredText } from '../validate.js'

export function userRoutes(db: Database): Router {
  const router = Router()

  router.get('/', async (req, res) => {
    const p = page(req.query as Record<string, unknown>)
    const rows = await db
      .select()
      .from(users)
      .orderBy(asc(users.email))
      .limit(p.limit + 1)
      .offset(p.offset)
    res.json(paged(rows, p))
  })

  router.post('/', async (req, res) => {
    const email = requiredText(req.body?.email, 'email', 320)
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw badRequest('email is not an email address')
    const name = requiredText(req.body?.name, 'name')
    try {
      const [row] = await db.insert(users).values({ email, name }).returning()
      res.status(201).json(row)
    } catch (error) {
      // unique (tenant_id, email): the same email may exist in another tenant
      if (causeCode(error) === '23505') throw new HttpError(409, 'CONFLICT', 'A user with this email exists')
      throw error
    }
  })

  router.get('/:id', async (req, res) => {
    const [row] = await db
      .select()
      .from(users)
      .where(eq(users.id, pathId(req.params.id, 'user')))
    if (!row) throw notFound('user')
    res.json(row)
  })

  return router
}

// Drizzle wraps driver errors; the SQLSTATE is on the error or its cause.
function causeCode(error: unknown): string | undefined {
  for (
    let current = error as { code?: unknown; cause?: unknown } | undefined, i = 0;
    current && i < 5;
    current = current.cause as typeof current, i++
  ) {
    if (typeof current.code === 'string') return current.code
  }
  return undefined
}
