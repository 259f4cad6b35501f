import { currentTenantId, forceRowLevelSecurity, TENANT_POLICY_NAME, tenantIdColumn, tenantIndex, tenantPolicy } from '@tenantscope/drizzle'
import { bigint, getTableConfig, PgDialect, pgSchema, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'
import { describe, expect, test } from 'vitest'
import { invoices, projects, tenants, users } from '../fixtures/schema.js'

const dialect = new PgDialect()

// The expression tenantscope.enable_tenant_rls writes out (no call to the SQL helpers).
const SETTING = "NULLIF(current_setting('app.current_tenant', true), '')"

describe('schema helpers', () => {
  test('tenantIdColumn: uuid NOT NULL DEFAULT the setting as uuid, named as asked', () => {
    const t = pgTable('t', { tenantId: tenantIdColumn(), orgId: tenantIdColumn('org_id') })
    const [tenant, org] = getTableConfig(t).columns
    expect([tenant!.name, tenant!.getSQLType(), tenant!.notNull, tenant!.hasDefault]).toEqual(['tenant_id', 'uuid', true, true])
    expect(dialect.sqlToQuery(tenant!.default as never).sql).toBe(`${SETTING}::uuid`)
    expect(dialect.sqlToQuery(currentTenantId).sql).toBe(`${SETTING}::uuid`)
    expect(org!.name).toBe('org_id')
  })

  test('tenantPolicy: the policy enable_tenant_rls creates, on the given column', () => {
    const policies = getTableConfig(projects).policies
    expect(policies).toHaveLength(1)
    const [policy] = policies
    expect(policy).toMatchObject({ name: TENANT_POLICY_NAME, as: 'permissive', for: 'all', to: 'public' })
    const using = dialect.sqlToQuery(policy!.using!).sql
    expect(using).toBe(`"projects"."tenant_id" = (SELECT ${SETTING}::uuid)`)
    expect(dialect.sqlToQuery(policy!.withCheck!).sql).toBe(using)
    expect(dialect.sqlToQuery(getTableConfig(tenants).policies[0]!.using!).sql).toBe(`"tenants"."id" = (SELECT ${SETTING}::uuid)`)
    expect(tenantPolicy(users.tenantId, { name: 'custom' }).name).toBe('custom')
  })

  test('tenantPolicy on a text or bigint tenant column: text uncast, others cast to the column type, as enable_tenant_rls does', () => {
    const notes = pgTable('notes', { org: text('org').notNull(), shard: bigint('shard', { mode: 'bigint' }).notNull() })
    const [org, shard] = getTableConfig(notes).columns
    expect(dialect.sqlToQuery(tenantPolicy(org!).using!).sql).toBe(`"notes"."org" = (SELECT ${SETTING})`)
    expect(dialect.sqlToQuery(tenantPolicy(shard!).using!).sql).toBe(`"notes"."shard" = (SELECT ${SETTING}::bigint)`)
  })

  test('tenantIndex: an index that starts with the tenant column', () => {
    const t = pgTable('t', { tenantId: tenantIdColumn(), createdAt: timestamp('created_at'), name: text('name') }, (t) => [
      tenantIndex('t_tenant_created_idx', t.tenantId, t.createdAt.desc(), t.name),
    ])
    const [index] = getTableConfig(t).indexes
    expect(index!.config.name).toBe('t_tenant_created_idx')
    expect(index!.config.columns.map((column) => (column as { name: string }).name)).toEqual(['tenant_id', 'created_at', 'name'])
  })

  test('forceRowLevelSecurity: one ALTER per table, schema-qualified and quoted, with drizzle-kit breakpoints', () => {
    expect(forceRowLevelSecurity([users, projects, invoices])).toBe(
      [
        'ALTER TABLE "users" FORCE ROW LEVEL SECURITY;',
        'ALTER TABLE "projects" FORCE ROW LEVEL SECURITY;',
        'ALTER TABLE "invoices" FORCE ROW LEVEL SECURITY;',
      ].join('\n--> statement-breakpoint\n') + '\n',
    )
    const odd = pgSchema('app data').table('we"ird', { id: uuid('id') })
    expect(forceRowLevelSecurity([odd])).toBe('ALTER TABLE "app data"."we""ird" FORCE ROW LEVEL SECURITY;\n')
  })
})
