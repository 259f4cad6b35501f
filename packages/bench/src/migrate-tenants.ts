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
import { createTenant, migrateTenants } from '@tenantscope/router'
import { APP_ROLE, withClient } from '@tenantscope/test-harness'
import pg from 'pg'
import { openDatabases } from './database.js'

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
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tenants) {
        const i = next++
        await createTenant(admin, {
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

  const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`
  const lines = [
    `migrations across ${tenants} tenant schemas (+ the shared schema), concurrency ${concurrency}, ${databases.version.split(' on ')[0]}`,
    `  provision ${tenants} schema tenants (schema, role, grants, 1 migration): ${seconds(provisioned)}`,
    `  migrate, nothing to do:            ${seconds(idleMs)}   (target ≤ 10 s; django-tenants anchor: ~12 min for 900)`,
    `  migrate, one ALTER TABLE to all:   ${seconds(alterMs)}   (target ≤ 60 s)`,
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
