import { bigint, char, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'

// The two tables of the shipped example schema (sql/examples) that the
// report reads. RLS is declared there; these only type the queries.
export const projects = pgTable('projects', {
  tenantId: uuid('tenant_id').notNull(),
  id: uuid('id').notNull(),
  name: text('name').notNull(),
})

export const invoices = pgTable('invoices', {
  tenantId: uuid('tenant_id').notNull(),
  id: uuid('id').notNull(),
  projectId: uuid('project_id').notNull(),
  amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
  currency: char('currency', { length: 3 }).notNull(),
  status: text('status').notNull(),
  issuedAt: timestamp('issued_at', { withTimezone: true }).notNull(),
})
