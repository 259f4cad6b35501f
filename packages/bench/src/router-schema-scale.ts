// pnpm --filter @tenantscope/bench bench:router-scale [<tenants>] [--provision-only] [--drop]
// Schema tenants at scale (issue 15): what 10,000 tenant schemas cost the
// catalog, one connection's memory (PostgreSQL's relation and catalog caches
// grow with every tenant table a backend touches, and never shrink), and the
// router's point-read latency spread over all tenants vs over 100.
//
// Runs on TEST_DATABASE_URL or DATABASE_URL (default: the local PostgreSQL),
// in its own database, router_scale_<tenants>, kept between runs: provisioning
// 10,000 schemas and roles takes minutes, so a rerun reuses them. --drop
// removes the database and its roles.
import { readFile } from 'node:fs/promises'
import { withTenant } from '@tenantscope/core'
import { createTenantDirectory, createTenantRouter, migrateTenants, migrationFrom, type TenantEntry } from '@tenantscope/router'
import { APP_ROLE, createTemplate, withClient, withDatabase } from '@tenantscope/test-harness'
import pg from 'pg'
import { runClosedLoop, type Sample, summarize } from './runner.js'

const args = process.argv.slice(2).filter((arg) => arg !== '--')
const tenants = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 10_000)
const serverUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const name = `router_scale_${tenants}`
const rolePrefix = `${name}_t`
const gate = `${name}_gate`
const adminUrl = withDatabase(serverUrl, name)
const appUrl = withDatabase(serverUrl, name, APP_ROLE)
const log = (line: string) => process.stderr.write(`${line}\n`)
const BATCH = 100
const WORKERS = 2 // this machine's cores
const RUN_MS = 4_000
const RUNS = 3

// What createTenant makes for a schema tenant with one drizzle-kit style
// migration: schema, role, two tables with a foreign key and indexes, the
// migration tracking table, grants.
const migration = migrationFrom(
  '0000_init',
  `CREATE TABLE "projects" ("id" serial PRIMARY KEY NOT NULL, "name" text NOT NULL, "created_at" timestamptz DEFAULT now() NOT NULL);
--> statement-breakpoint
CREATE TABLE "tasks" ("id" serial PRIMARY KEY NOT NULL, "project_id" integer NOT NULL REFERENCES "projects" ("id"), "title" text NOT NULL, "done" boolean DEFAULT false NOT NULL);
--> statement-breakpoint
CREATE INDEX "tasks_project_idx" ON "tasks" USING btree ("project_id");`,
)

function tenantId(i: number): string {
  return `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`
}
function entry(i: number): TenantEntry {
  return { tenantId: tenantId(i), strategy: 'schema', schema: `tenant_${i}`, role: `${rolePrefix}${i}`, state: 'active' }
}

function tenantSql(i: number): string {
  const { schema, role } = entry(i)
  const body = migration.statements.join(';\n')
  return `CREATE ROLE ${role} NOLOGIN; GRANT ${role} TO ${gate}; CREATE SCHEMA ${schema};
    SET LOCAL search_path = ${schema}; ${body};
    CREATE TABLE tenantscope_migrations (name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO tenantscope_migrations (name, checksum) VALUES ('${migration.name}', '${migration.checksum}');
    INSERT INTO projects (name) VALUES ('project of ${schema}');
    GRANT USAGE ON SCHEMA ${schema} TO ${role};
    GRANT SELECT, INSERT, UPDATE, DELETE ON projects, tasks TO ${role};
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ${role};
    INSERT INTO tenantscope.tenant_directory (tenant_id, strategy, schema_name, role_name, state)
      VALUES ('${tenantId(i)}', 'schema', '${schema}', '${role}', 'active');`
}

async function databaseExists(): Promise<boolean> {
  return withClient(serverUrl, async (c) => (await c.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [name])).rowCount === 1)
}

async function drop(): Promise<void> {
  await withClient(serverUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    const { rows } = await c.query<{ rolname: string }>(
      `SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) ORDER BY rolname <> $2`,
      [`${name}_`, gate],
    )
    for (let i = 0; i < rows.length; i += 500) {
      await c.query(
        rows
          .slice(i, i + 500)
          .map((r) => `DROP ROLE ${pg.escapeIdentifier(r.rolname)};`)
          .join('\n'),
      )
    }
  })
}

/** Makes the tenants missing from the directory, BATCH to a transaction: a rerun resumes. */
async function provision(): Promise<void> {
  if (!(await databaseExists())) await createTemplate(serverUrl, name)
  await withClient(adminUrl, async (c) => {
    await c.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${gate}') THEN CREATE ROLE ${gate} NOLOGIN NOINHERIT; END IF;
    END $$; GRANT ${gate} TO ${APP_ROLE.name};
    -- Lets the app role read its own backend's memory contexts (superuser-only by default), in this database only.
    GRANT SELECT ON pg_backend_memory_contexts TO ${APP_ROLE.name};
    GRANT EXECUTE ON FUNCTION pg_get_backend_memory_contexts() TO ${APP_ROLE.name}`)
  })
  const admin = new pg.Pool({ connectionString: adminUrl, max: WORKERS })
  try {
    const { rows } = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM tenantscope.tenant_directory`)
    let next = rows[0]!.n
    const started = performance.now()
    let done = next
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (next < tenants) {
          const from = next
          next = Math.min(tenants, next + BATCH)
          const sql = Array.from({ length: next - from }, (_, k) => tenantSql(from + k)).join('\n')
          await admin.query(`BEGIN; ${sql} COMMIT;`)
          done += BATCH
          log(`provisioned ${Math.min(done, tenants)}/${tenants} (${((performance.now() - started) / 1000).toFixed(0)} s)`)
        }
      }),
    )
    await admin.query('VACUUM ANALYZE')
  } finally {
    await admin.end()
  }
}

const kb = (text: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN)

/** A backend's memory from /proc (the bench runs beside the server, as root or as postgres). */
async function backendMemory(pid: number) {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8')
  return {
    rssKb: kb(text, 'Rss'),
    pssKb: kb(text, 'Pss'),
    // Private pages are this backend's alone: what one more connection costs (shared_buffers excluded).
    privateKb: kb(text, 'Private_Clean') + kb(text, 'Private_Dirty'),
  }
}

/** utime + stime of a process, in ms (clock ticks of 10 ms). */
async function processCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

async function catalogSize(url: string) {
  return withClient(url, async (c) => {
    const { rows } = await c.query(`SELECT
      (SELECT count(*) FROM pg_class)::int AS pg_class,
      (SELECT count(*) FROM pg_attribute)::int AS pg_attribute,
      (SELECT count(*) FROM pg_depend)::int AS pg_depend,
      (SELECT count(*) FROM pg_authid)::int AS roles,
      pg_database_size(current_database())::bigint AS database_bytes,
      (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'pg_catalog' AND c.relkind = 'r')::bigint AS catalog_bytes`)
    return rows[0] as Record<string, number | string>
  })
}

async function measure() {
  const entries = Array.from({ length: tenants }, (_, i) => entry(i))
  const byId = new Map(entries.map((e) => [e.tenantId, e]))
  const directory = () => createTenantDirectory((id) => byId.get(id))
  const lines: string[] = []
  const out = (line: string) => {
    lines.push(line)
    log(line)
  }
  const version = await withClient(serverUrl, async (c) => (await c.query(`SHOW server_version`)).rows[0].server_version)
  out(
    `schema tenants at scale: ${tenants} tenants (schema + role + 2 tables, 3 indexes, 2 sequences, tracking table), PostgreSQL ${version}`,
  )

  // The catalog: this database against a fresh one made the same way with no tenants.
  const fresh = `${name}_fresh`
  await withClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${fresh}`))
  await createTemplate(serverUrl, fresh)
  const base = await catalogSize(withDatabase(serverUrl, fresh))
  await withClient(serverUrl, (c) => c.query(`DROP DATABASE ${fresh}`))
  const full = await catalogSize(adminUrl)
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`
  const per = (key: string) => ((Number(full[key]) - Number(base[key])) / tenants).toFixed(1)
  out(
    `  catalog: pg_class ${full.pg_class} rows (empty: ${base.pg_class}, +${per('pg_class')}/tenant), ` +
      `pg_attribute ${full.pg_attribute} (empty: ${base.pg_attribute}, +${per('pg_attribute')}/tenant), ` +
      `pg_depend ${full.pg_depend} (empty: ${base.pg_depend}, +${per('pg_depend')}/tenant), roles ${full.roles}`,
  )
  out(
    `  database size ${mb(Number(full.database_bytes))} (empty: ${mb(Number(base.database_bytes))}); ` +
      `pg_catalog tables+indexes ${mb(Number(full.catalog_bytes))} (empty: ${mb(Number(base.catalog_bytes))}), ` +
      `${((Number(full.catalog_bytes) - Number(base.catalog_bytes)) / tenants / 1024).toFixed(1)} kB/tenant`,
  )

  // One connection through the router touching 1, 10, 100, ... tenant schemas.
  const one = new pg.Pool({ connectionString: appUrl, max: 1, application_name: 'router-scale-memory' })
  const memRouter = createTenantRouter({ directory: directory(), pool: one })
  const pid = (await one.query(`SELECT pg_backend_pid() AS pid`)).rows[0].pid as number
  const contexts = async () => {
    const { rows } = await one.query(`SELECT
      sum(total_bytes)::bigint AS total,
      sum(total_bytes) FILTER (WHERE name = 'CacheMemoryContext' OR parent = 'CacheMemoryContext')::bigint AS cache
      FROM pg_backend_memory_contexts`)
    return { total: Number(rows[0].total), cache: Number(rows[0].cache) }
  }
  const idle = { ...(await backendMemory(pid)), ...(await contexts()) }
  out(
    `  one connection, idle: RSS ${(idle.rssKb / 1024).toFixed(1)} MB, private ${(idle.privateKb / 1024).toFixed(1)} MB, ` +
      `memory contexts ${mb(idle.total)} (catalog caches ${(idle.cache / 1024 / 1024).toFixed(1)} MB)`,
  )
  let touched = 0
  for (const stage of [1, 10, 100, 1000, 10_000, 100_000].filter((n) => n <= tenants)) {
    const started = performance.now()
    const cpuBefore = await processCpuMs(pid)
    const from = touched
    for (; touched < stage; touched++) {
      const id = entries[touched]!.tenantId
      await withTenant(id, () =>
        memRouter.query(
          `SELECT p.name, count(t.id) FROM projects p LEFT JOIN tasks t ON t.project_id = p.id WHERE p.id = $1 GROUP BY p.name`,
          [1],
        ),
      )
    }
    const ms = (performance.now() - started) / (stage - from)
    const backendCpu = ((await processCpuMs(pid)) - cpuBefore) / (stage - from)
    const m = { ...(await backendMemory(pid)), ...(await contexts()) }
    out(
      `    after ${String(stage).padStart(6)} tenants: RSS ${(m.rssKb / 1024).toFixed(1)} MB, PSS ${(m.pssKb / 1024).toFixed(1)} MB, ` +
        `private ${(m.privateKb / 1024).toFixed(1)} MB, memory contexts ${(m.total / 1024 / 1024).toFixed(1)} MB ` +
        `(catalog caches ${(m.cache / 1024 / 1024).toFixed(1)} MB); first query per tenant ${ms.toFixed(2)} ms, backend CPU ${backendCpu.toFixed(2)} ms`,
    )
  }
  const perTenantKb = ((await backendMemory(pid)).privateKb - idle.privateKb) / tenants
  out(`    => ${perTenantKb.toFixed(1)} kB of private memory per tenant schema touched, per connection`)
  await memRouter.end()

  // Point reads through the router, 2 workers on a pool of 2: spread over 100 tenants vs over all.
  const pool = new pg.Pool({ connectionString: appUrl, max: WORKERS, application_name: 'router-scale-latency' })
  const router = createTenantRouter({ directory: directory(), pool })
  const pids = async () =>
    (await pool.query(`SELECT array_agg(pid) AS p FROM pg_stat_activity WHERE application_name = 'router-scale-latency'`)).rows[0]
      .p as number[]
  const read = (i: number) => withTenant(entries[i]!.tenantId, () => router.query('SELECT name FROM projects WHERE id = $1', [1]))
  // Warm both connections over every tenant: the steady state of a long-lived pool.
  let k = 0
  const warmStart = performance.now()
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (k < tenants * WORKERS * 2) await read(k++ % tenants)
    }),
  )
  out(
    `  router point reads, ${WORKERS} workers, pool of ${WORKERS}; warming both connections over every tenant took ${((performance.now() - warmStart) / 1000).toFixed(1)} s`,
  )
  const backends = await pids()
  const results: Record<string, { s: ReturnType<typeof summarize>; clientUs: number; backendUs: number }[]> = {}
  const spreads = [...new Set([100, tenants].filter((n) => n <= tenants))]
  for (let run = 0; run < RUNS; run++) {
    for (const spread of spreads) {
      let j = 0
      const client = process.cpuUsage()
      const backendBefore = await Promise.all(backends.map(processCpuMs))
      const sample: Sample = await runClosedLoop(`${spread}`, () => read(j++ % spread), WORKERS, RUN_MS)
      const used = process.cpuUsage(client)
      const backendAfter = await Promise.all(backends.map(processCpuMs))
      const backendMs = backendAfter.reduce((sum, v, i) => sum + v - backendBefore[i]!, 0)
      ;(results[spread] ??= []).push({
        s: summarize([sample]),
        clientUs: (used.user + used.system) / sample.operations,
        backendUs: (backendMs * 1000) / sample.operations,
      })
    }
  }
  await router.end()
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
  const spread = (values: number[], digits: number) =>
    `${median(values).toFixed(digits)} [${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}]`
  for (const n of spreads) {
    const r = results[n]!
    out(
      `    over ${String(n).padStart(6)} tenants: ${spread(
        r.map((x) => x.s.throughput),
        0,
      )} q/s, p50 ${spread(
        r.map((x) => x.s.p50),
        3,
      )} ms, ` +
        `p99 ${spread(
          r.map((x) => x.s.p99),
          3,
        )} ms, CPU/op client ${spread(
          r.map((x) => x.clientUs),
          0,
        )} µs, backend ${spread(
          r.map((x) => x.backendUs),
          0,
        )} µs`,
    )
  }
  const ratio = median(results[tenants]!.map((x) => x.s.throughput)) / median(results[100]!.map((x) => x.s.throughput))
  out(`    throughput over all ${tenants} / over 100: ${ratio.toFixed(2)}×   (median of ${RUNS} runs of ${RUN_MS / 1000} s, [min–max])`)

  // A migrate run with nothing to do, across every tenant schema.
  const admin = new pg.Pool({ connectionString: adminUrl, max: 8 })
  try {
    const started = performance.now()
    const summary = await migrateTenants({ admin, migrations: [migration], shared: false, concurrency: 8 })
    if (!summary.ok || summary.upToDate !== tenants) throw new Error(`nothing-to-do migrate: ${JSON.stringify(summary.failed.slice(0, 3))}`)
    out(`  migrate, nothing to do, ${tenants} schemas (concurrency 8): ${((performance.now() - started) / 1000).toFixed(2)} s`)
  } finally {
    await admin.end()
  }
  return lines
}

if (args.includes('--drop')) {
  await drop()
  log(`dropped ${name} and its roles`)
} else {
  await provision()
  if (!args.includes('--provision-only')) process.stdout.write(`${(await measure()).join('\n')}\n`)
}
