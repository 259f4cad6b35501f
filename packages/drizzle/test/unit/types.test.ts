// Type tests: ordinary test files, so they run with the unit project; the
// package's `tsc --noEmit` (pnpm typecheck) compiles them, and a wrong type
// fails that step.
import type { TenantPool } from '@tenantscope/core'
import { createTenantDrizzle, tenantDrizzle, tenantIdColumn } from '@tenantscope/drizzle'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import { pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { drizzle as drizzleV1 } from 'drizzle-orm-v1/node-postgres'
import pg from 'pg'
import { describe, expectTypeOf, test } from 'vitest'
import * as schema from '../fixtures/schema.js'
import { relations } from '../fixtures/schema-v1.js'

// Never connects: no query is awaited in this file.
const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' })

describe('types', () => {
  test('tenantDrizzle returns exactly the type of the instance it wraps (0.x, with schema)', () => {
    const db = drizzle(pool, { schema })
    const scoped = tenantDrizzle(db)
    expectTypeOf(scoped).toEqualTypeOf<typeof db>()
    expectTypeOf(scoped).toEqualTypeOf<NodePgDatabase<typeof schema> & { $client: pg.Pool }>()
    const select = () => scoped.select().from(schema.projects)
    expectTypeOf<Awaited<ReturnType<typeof select>>>().toEqualTypeOf<Array<typeof schema.projects.$inferSelect>>()
    const relational = () => scoped.query.projects.findFirst({ with: { owner: true } })
    expectTypeOf<NonNullable<Awaited<ReturnType<typeof relational>>>['owner']>().toEqualTypeOf<typeof schema.users.$inferSelect | null>()
    const transaction = () => scoped.transaction(async (tx) => tx.select({ id: schema.projects.id }).from(schema.projects))
    expectTypeOf<Awaited<ReturnType<typeof transaction>>>().toEqualTypeOf<Array<{ id: string }>>()
    const counted = () => scoped.$count(schema.projects)
    expectTypeOf<Awaited<ReturnType<typeof counted>>>().toEqualTypeOf<number>()
  })

  test('tenantDrizzle keeps the type without a schema, and over drizzle-orm 1.0 with relations', () => {
    const plain = drizzle(pool)
    expectTypeOf(tenantDrizzle(plain)).toEqualTypeOf<typeof plain>()
    const v1 = drizzleV1({ client: pool, relations })
    expectTypeOf(tenantDrizzle(v1)).toEqualTypeOf<typeof v1>()
  })

  test('createTenantDrizzle is a NodePgDatabase of the schema whose $client is the TenantPool', () => {
    const make = () => createTenantDrizzle({ connectionString: 'postgres://nobody@127.0.0.1:1/none' }, { schema })
    expectTypeOf<ReturnType<typeof make>>().toEqualTypeOf<NodePgDatabase<typeof schema> & { $client: TenantPool }>()
  })

  test('tenantIdColumn: a string that inserts need not name', () => {
    const table = pgTable('t', { tenantId: tenantIdColumn(), id: uuid('id').notNull(), name: text('name') })
    expectTypeOf<(typeof table.$inferSelect)['tenantId']>().toEqualTypeOf<string>()
    expectTypeOf<typeof table.$inferInsert>().toEqualTypeOf<{ tenantId?: string; id: string; name?: string | null }>()
  })
})
