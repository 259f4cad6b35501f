import { randomUUID } from 'node:crypto'
import { PrismaPg } from '@prisma/adapter-pg'
import { createTenantPool, type TenantPool, TenantScopeError, withTenant } from '@tenantscope/core'
import { type ContractAdapter, createTestDatabase, describeTenantContract, type TestDatabase, withClient } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Prisma, PrismaClient } from '../generated/prisma/client.js'

// The recipe in docs/recipes/prisma.md: Prisma 7, @prisma/adapter-pg over a TenantPool.

type Db = PrismaClient | Prisma.TransactionClient

/**
 * Prisma wraps database errors (P2010, P2039...) and keeps the SQLSTATE in
 * meta.driverAdapterError.cause; the contract asserts on the SQLSTATE, as
 * a user's error handling would read it. tenantscope's refusals are left as
 * Prisma delivers them: the contract's own checks must recognise those.
 */
async function databaseError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    const cause = (error as { meta?: { driverAdapterError?: { cause?: { originalCode?: string; originalMessage?: string } } } }).meta
      ?.driverAdapterError?.cause
    if (cause?.originalCode) throw Object.assign(new Error(cause.originalMessage), { code: cause.originalCode, prismaError: error })
    throw error
  }
}

function prismaAdapter(db: Db, transaction: ContractAdapter['transaction']): ContractAdapter {
  return {
    insertProject: (name) => databaseError(async () => void (await db.project.create({ data: { name } }))),
    insertProjectFor: (tenantId, name) => databaseError(async () => void (await db.project.create({ data: { tenantId, name } }))),
    listProjects: () =>
      databaseError(async () =>
        (await db.project.findMany({ select: { tenantId: true, name: true }, orderBy: [{ createdAt: 'asc' }, { name: 'asc' }] })).map(
          (row) => ({ tenant_id: row.tenantId, name: row.name }),
        ),
      ),
    renameProjects: (name) => databaseError(async () => (await db.project.updateMany({ data: { name } })).count),
    moveProjectsTo: (tenantId) => databaseError(async () => (await db.project.updateMany({ data: { tenantId } })).count),
    deleteProjects: () => databaseError(async () => (await db.project.deleteMany()).count),
    transaction,
    failingStatement: () => databaseError(() => db.$queryRaw`SELECT 1 / 0`),
  }
}

/**
 * The contract asserts `{ name: 'TenantScopeError', code }` for refusals; Prisma rewraps them as
 * PrismaClientKnownRequestError (same code). `TenantScopeError.from` gives the original back:
 * this is the check that breaks if Prisma stops carrying it.
 */
async function unwrapRefusal<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    throw TenantScopeError.from(error) ?? error
  }
}

function contractAdapter(prisma: PrismaClient): ContractAdapter {
  const wrap = (adapter: ContractAdapter): ContractAdapter =>
    Object.fromEntries(
      Object.entries(adapter).map(([key, fn]) => [
        key,
        (...args: unknown[]) => unwrapRefusal(() => (fn as (...a: unknown[]) => Promise<unknown>)(...args)),
      ]),
    ) as unknown as ContractAdapter
  const noNested: ContractAdapter['transaction'] = () => Promise.reject(new Error('no nested transactions'))
  return wrap(prismaAdapter(prisma, (fn) => prisma.$transaction((tx) => fn(prismaAdapter(tx, noNested)))))
}

describeTenantContract('Prisma 7, new PrismaClient({ adapter: new PrismaPg(tenantPool) })', (config) => {
  const rawPool = new pg.Pool(config)
  const prisma = new PrismaClient({ adapter: new PrismaPg(createTenantPool(rawPool)) })
  const end = async () => {
    await prisma.$disconnect()
    // A pool passed in is the caller's: PrismaPg does not end it.
    if (!rawPool.ending) await rawPool.end()
  }
  return { adapter: contractAdapter(prisma), rawPool, end }
})

describe('Prisma on a TenantPool: raw queries, transactions, errors', () => {
  let db: TestDatabase
  let pool: TenantPool
  let prisma: PrismaClient
  const A = randomUUID()
  const B = randomUUID()

  beforeAll(async () => {
    db = await createTestDatabase()
    await withClient(db.adminUrl, (admin) => admin.query(`INSERT INTO tenants (id, name) VALUES ($1, 'A'), ($2, 'B')`, [A, B]))
    pool = createTenantPool({ connectionString: db.appUrl, max: 2 })
    prisma = new PrismaClient({ adapter: new PrismaPg(pool) })
  })
  afterAll(async () => {
    await prisma?.$disconnect()
    await pool?.end()
    await db?.drop()
  })

  test('$queryRaw and $executeRaw run for the tenant', async () => {
    await withTenant(A, () => prisma.$executeRaw`INSERT INTO projects (name) VALUES (${'raw A'})`)
    const rows = await withTenant(
      A,
      () => prisma.$queryRaw<{ tenant_id: string; setting: string }[]>`
      SELECT tenant_id::text, current_setting('app.current_tenant') AS setting FROM projects WHERE name = ${'raw A'}`,
    )
    expect(rows).toEqual([{ tenant_id: A, setting: A }])
    expect(await withTenant(B, () => prisma.$queryRaw`SELECT * FROM projects WHERE name = ${'raw A'}`)).toEqual([])
  })

  test.each([
    [Prisma.TransactionIsolationLevel.ReadCommitted, 'read committed'],
    [Prisma.TransactionIsolationLevel.RepeatableRead, 'repeatable read'],
    [Prisma.TransactionIsolationLevel.Serializable, 'serializable'],
  ])(
    'an interactive transaction with isolationLevel %s takes the level and runs every statement for the tenant',
    async (isolationLevel, level) => {
      const seen = await withTenant(B, () =>
        prisma.$transaction(
          async (tx) => {
            const created = await tx.project.create({ data: { name: `tx ${level}` } })
            const [setting] = await tx.$queryRaw<{ level: string; tenant: string }[]>`
            SELECT current_setting('transaction_isolation') AS level, current_setting('app.current_tenant') AS tenant`
            return { tenantId: created.tenantId, ...setting }
          },
          { isolationLevel },
        ),
      )
      expect(seen).toEqual({ tenantId: B, level, tenant: B })
    },
  )

  test('a batch $transaction([...]) runs for the tenant', async () => {
    const [count, rows] = await withTenant(A, () =>
      prisma.$transaction([
        prisma.project.count(),
        prisma.$queryRaw<{ tenant: string }[]>`SELECT current_setting('app.current_tenant') AS tenant`,
      ]),
    )
    expect(count).toBe(await withTenant(A, () => prisma.project.count()))
    expect(rows).toEqual([{ tenant: A }])
  })

  test('a refusal stays recognisable through Prisma’s wrapping: TenantScopeError.is() and .from()', async () => {
    const outside = await prisma.project.findMany().then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(outside).toBeInstanceOf(Prisma.PrismaClientKnownRequestError)
    expect(outside).toMatchObject({ code: 'TENANT_CONTEXT_MISSING' })
    expect(TenantScopeError.is(outside)).toBe(true)
    expect(TenantScopeError.is(outside, 'TENANT_CONTEXT_MISSING')).toBe(true)
    expect(TenantScopeError.is(outside, 'INVALID_TENANT_ID')).toBe(false)
    const original = TenantScopeError.from(outside)
    expect(original).toBeInstanceOf(TenantScopeError)
    expect(original?.code).toBe('TENANT_CONTEXT_MISSING')
    // Nothing of the original leaks into what loggers print as JSON.
    expect(JSON.stringify((outside as Prisma.PrismaClientKnownRequestError).meta)).toBe('{"modelName":"Project"}')

    const badId = await withTenant('not-a-uuid', () => prisma.$queryRaw`SELECT 1`).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(TenantScopeError.is(badId, 'INVALID_TENANT_ID')).toBe(true)

    // A database error is not a tenantscope refusal.
    const policy = await withTenant(A, () => prisma.project.create({ data: { tenantId: B, name: 'forged' } })).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(policy).toBeInstanceOf(Prisma.PrismaClientKnownRequestError)
    expect(TenantScopeError.is(policy)).toBe(false)
  })
})
