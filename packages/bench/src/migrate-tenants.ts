// pnpm --filter @tenantscope/bench bench:migrate [<tenants> <concurrency>]
// Migrations across tenant schemas: provisions N schema tenants (default
// 1,000), then times a migrate run with nothing to do and one ALTER TABLE
// reaching all of them. Targets (issue 15, this 2-core machine): ≤ 10 s and
// ≤ 60 s. Anchor: django-tenants users report 12 minutes for 900 tenants with
// nothing to migrate.
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { withTenant } from '@tenantscope/core'
import { createTenant, createTenantDirectory, createTenantRouter, migrateTenants, type TenantEntry } from '@tenantscope/router'
import { APP_ROLE, withClient } from '@tenantscope/test-harness'
import pg from 'pg'
import { openDatabases } from './database.js'
import { runClosedLoop, summarize } from './runner.js'

// pnpm may pass a literal '--' before the arguments.
const args = process.argv.slice(2).filter((arg) => arg !== '--')
const tenants = Number(args[0] ?? 1000)
const concurrency = Number(args[1] ?? 8)
const log = (line: string) => process.stderr.write(`${line}\n`)

const databases = await openDatabases(log)
const prefix = `bm${randomBytes(3).toString('hex')}_`
const folder = await mkdtemp(join(tmpdir(), 'tenantscope-bench-migrate-'))
const db = await databases.create('migrate')
const admin = new pg.Pool({ connectionString: db.adminUrl, max: concurrency })
try {
  await writeFile(
    join(folder, '0000_init.sql'),
    `CREATE TABLE "bench_items" ("id" serial PRIMARY KEY NOT NULL, "name" text NOT NULL, "created_at" timestamptz DEFAULT now() NOT NULL);
--> statement-breakpoint
CREATE INDEX "bench_items_created_idx" ON "bench_items" USING btree ("created_at");`,
  )
  let started = performance.now()
  let next = 0
  const entries: TenantEntry[] = []
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tenants) {
        const i = next++
        entries[i] = await createTenant(admin, {
          tenantId: randomUUID(),
          strategy: 'schema',
          schema: `tenant_${i}`,
          role: `${prefix}t${i}`,
          gateRole: `${prefix}gate`,
          appRole: APP_ROLE.name,
          migrations: folder,
        })
      }
    }),
  )
  const provisioned = performance.now() - started
  // The shared schema gets the same migrations; bring it up to date before timing.
  await migrateTenants({ admin, migrations: folder, tenants: [] })

  started = performance.now()
  const idle = await migrateTenants({ admin, migrations: folder, concurrency })
  const idleMs = performance.now() - started
  if (!idle.ok || idle.upToDate !== tenants + 1) throw new Error(`nothing-to-do run: ${JSON.stringify(idle.failed.slice(0, 3))}`)

  await writeFile(join(folder, '0001_archived.sql'), `ALTER TABLE "bench_items" ADD COLUMN "archived" boolean DEFAULT false NOT NULL;`)
  started = performance.now()
  const alter = await migrateTenants({ admin, migrations: folder, concurrency })
  const alterMs = performance.now() - started
  if (!alter.ok || alter.migrated.length !== tenants + 1) throw new Error(`ALTER run: ${JSON.stringify(alter.failed.slice(0, 3))}`)

  // What many schemas cost a backend and the catalog: one backend touching
  // 100 tenants' tables, then all of them (its relation and catalog caches grow).
  const cacheBytes = async (client: pg.ClientBase) =>
    Number((await client.query(`SELECT sum(total_bytes)::bigint AS b FROM pg_backend_memory_contexts`)).rows[0].b)
  const memory = await withClient(db.adminUrl, async (client) => {
    const fresh = await cacheBytes(client)
    const touch = async (from: number, to: number) => {
      for (let i = from; i < to; i++) await client.query(`SELECT name FROM tenant_${i}.bench_items WHERE id = 1`)
    }
    await touch(0, Math.min(100, tenants))
    const after100 = await cacheBytes(client)
    await touch(Math.min(100, tenants), tenants)
    return { fresh, after100, afterAll: await cacheBytes(client) }
  })
  const catalog = await admin.query(
    `SELECT pg_database_size(current_database())::bigint AS db,
            (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'pg_catalog')::bigint AS catalog`,
  )
  // Point reads through the router: spread over 100 tenants, then over all of them.
  const byId = new Map(entries.map((entry) => [entry.tenantId, entry]))
  const router = createTenantRouter({
    directory: createTenantDirectory((id) => byId.get(id)),
    pool: { connectionString: db.appUrl, max: concurrency },
  })
  const latency = async (spread: number) => {
    let k = 0
    const sample = await runClosedLoop(
      `${spread} tenants`,
      () => withTenant(entries[k++ % spread]!.tenantId, () => router.query('SELECT name FROM bench_items WHERE id = $1', [1])),
      concurrency,
      2_000,
    )
    return summarize([sample])
  }
  await latency(Math.min(100, tenants))
  const over100 = await latency(Math.min(100, tenants))
  const overAll = await latency(tenants)
  await router.end()

  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
  const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`
  const lines = [
    `migrations across ${tenants} tenant schemas (+ the shared schema), concurrency ${concurrency}, ${databases.version.split(' on ')[0]}`,
    `  provision ${tenants} schema tenants (schema, role, grants, 1 migration): ${seconds(provisioned)}`,
    `  migrate, nothing to do:            ${seconds(idleMs)}   (target ≤ 10 s; django-tenants anchor: ~12 min for 900)`,
    `  migrate, one ALTER TABLE to all:   ${seconds(alterMs)}   (target ≤ 60 s)`,
    `  database size ${mb(Number(catalog.rows[0].db))}, of which the pg_catalog tables and indexes ${mb(Number(catalog.rows[0].catalog))}`,
    `  one backend's memory: fresh ${mb(memory.fresh)}, after reading 100 tenant tables ${mb(memory.after100)}, ` +
      `after all ${tenants} ${mb(memory.afterAll)}`,
    `  router point reads (${concurrency} workers, pool of ${concurrency}) spread over 100 tenants: ${over100.throughput.toFixed(0)} q/s, ` +
      `p50 ${over100.p50.toFixed(2)} ms, p99 ${over100.p99.toFixed(2)} ms`,
    `  ... spread over all ${tenants} tenants: ${overAll.throughput.toFixed(0)} q/s, p50 ${overAll.p50.toFixed(2)} ms, p99 ${overAll.p99.toFixed(2)} ms`,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
} finally {
  await admin.end()
  await rm(folder, { recursive: true, force: true })
  await databases.close()
  // Roles are cluster-wide: drop the bench's own once its database is gone.
  await withClient(databases.server.adminUrl, async (client) => {
    const { rows } = await client.query<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)`, [prefix])
    for (const { rolname } of rows) await client.query(`DROP ROLE ${pg.escapeIdentifier(rolname)}`)
  }).catch((error) => log(`role cleanup failed: ${String(error)}`))
}
