import { tenantIdColumn } from '@tenantscope/drizzle'
import { bigint, char, index, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core'

// The example schema shipped in sql/examples, as Drizzle tables. The SQL file
// is the source of truth (it also enables RLS); these declarations only type
// the queries. tenant_id defaults to the current tenant's setting, so inserts
// never name it (tenantIdColumn: the same default as enable_tenant_rls sets).

export const tenants = pgTable('tenants', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
})

export const users = pgTable(
  'users',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull().defaultRandom(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
)

export const projects = pgTable(
  'projects',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull().defaultRandom(),
    name: text('name').notNull(),
    ownerId: uuid('owner_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index('projects_tenant_created_idx').on(t.tenantId, t.createdAt.desc())],
)

export const invoices = pgTable(
  'invoices',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull().defaultRandom(),
    projectId: uuid('project_id').notNull(),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    currency: char('currency', { length: 3 }).notNull().default('EUR'),
    status: text('status', { enum: ['draft', 'sent', 'paid'] })
      .notNull()
      .default('draft'),
    issuedAt: timestamp('issued_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
)

export const schema = { tenants, users, projects, invoices }
