/**
 * `pnpm bench:policy`: the tenant policy's forms measured side by side.
 * For each form (sub-select, bare expression, SQL function) and each case
 * (the workloads, and the queries where a check could run row by row), it
 * records from EXPLAIN ANALYZE how many times the setting was evaluated, then
 * the server CPU per operation (the backends' on-CPU time from
 * /proc/<pid>/schedstat) and throughput through tenantscope's pool, as a
 * role that is not superuser, not BYPASSRLS and owns no table.
 * Forms alternate within each run; ratios are against the shipped form in
 * the same run; median [min–max] over the runs.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres pnpm bench:policy [--runs 3] [--seconds 1]
 *     [--concurrency 1,16] [--forms sub,bare,fn] [--cases point,join] [--cpu-forms ...] [--cpu-cases ...]
 *     [--database NAME] [--json FILE] [--explain-only]
 */
import { readFile, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { createTenantPool, type TenantPool, withTenant } from '@tenantscope/core'
import { resolveServer, withClient, withDatabase } from '@tenantscope/test-harness'
import { countEvaluations, type Evaluations, planShape } from './policy-forms-explain.js'
import { CASES, FORMS, formSql, type PolicyCase, type PolicyForm, SHARED_SQL, type Sizes, tenantUuid } from './policy-forms-schema.js'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '1,16' },
    forms: { type: 'string' },
    cases: { type: 'string' },
    'cpu-cases': { type: 'string' },
    'cpu-forms': { type: 'string' },
    tenants: { type: 'string', default: '200' },
    projects: { type: 'string', default: '200' },
    database: { type: 'string', default: 'tenantscope_policy_bench' },
    json: { type: 'string' },
    'explain-only': { type: 'boolean', default: false },
  },
})
const log = (line: string) => process.stderr.write(`${line}\n`)
const pick = <T extends { name: string }>(all: readonly T[], list: string | undefined) =>
  list ? list.split(',').map((name) => all.find((item) => item.name === name) ?? fail(`unknown: ${name}`)) : [...all]
function fail(message: string): never {
  throw new Error(message)
}

const forms = pick(FORMS, values.forms)
const cases = pick(CASES, values.cases)
// EXPLAIN covers every case and form; CPU can be limited to some, to keep a run short.
const cpuCases = pick(cases, values['cpu-cases'])
const cpuForms = pick(forms, values['cpu-forms'])
const sizes: Sizes = { tenants: Number(values.tenants), projectsPerTenant: Number(values.projects) }
const runs = Number(values.runs)
const sliceMs = Number(values.seconds) * 1000
const concurrencies = values.concurrency!.split(',').map(Number)
const database = values.database!
if (!/^[a-z_][a-z0-9_]*$/.test(database)) fail('--database must be a lower-case identifier')
const appRole = `${database}_app`

/** On-CPU nanoseconds of these server processes (Linux, server on this machine), or null when unreadable. */
async function backendCpuNs(pids: number[]): Promise<number | null> {
  let total = 0
  for (const pid of pids) {
    try {
      total += Number((await readFile(`/proc/${pid}/schedstat`, 'utf8')).split(' ')[0])
    } catch {
      return null
    }
  }
  return total
}

interface Cell {
  form: string
  case: string
  concurrency: number
  run: number
  ops: number
  opsPerSecond: number
  serverUsPerOp: number | null
  clientUsPerOp: number
}

async function measure(
  adminUrl: string,
  tenantPool: TenantPool,
  form: PolicyForm,
  policyCase: PolicyCase,
  concurrency: number,
): Promise<Omit<Cell, 'run'>> {
  const operation = () => {
    const tenant = 1 + Math.floor(Math.random() * sizes.tenants)
    return withTenant(tenantUuid(tenant), () => tenantPool.query(policyCase.sql, policyCase.params(tenant, Math.random(), sizes)))
  }
  const loop = async (ms: number) => {
    let ops = 0
    const deadline = performance.now() + ms
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          await operation()
          ops++
        }
      }),
    )
    return ops
  }
  await loop(Math.min(300, sliceMs / 3)) // warm: every connection open, plans' catalog caches loaded
  const pids = await withClient(adminUrl, async (admin) =>
    (
      await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [`policy_bench_${form.name}`])
    ).rows.map((row) => row.pid),
  )
  const serverBefore = await backendCpuNs(pids)
  const clientBefore = process.cpuUsage()
  const started = performance.now()
  const ops = await loop(sliceMs)
  const elapsed = performance.now() - started
  const client = process.cpuUsage(clientBefore)
  const serverAfter = await backendCpuNs(pids)
  return {
    form: form.name,
    case: policyCase.name,
    concurrency,
    ops,
    opsPerSecond: (ops / elapsed) * 1000,
    serverUsPerOp: serverBefore === null || serverAfter === null ? null : (serverAfter - serverBefore) / 1000 / ops,
    clientUsPerOp: (client.user + client.system) / ops,
  }
}

// EXPLAIN ANALYZE runs the writes for real: one more events row, an update that changes nothing.
async function explain(tenantPool: TenantPool, policyCase: PolicyCase): Promise<{ shape: string; evaluations: Evaluations }> {
  const tenant = 7
  const { rows } = await withTenant(tenantUuid(tenant), () =>
    tenantPool.query<{ 'QUERY PLAN': [{ Plan: Parameters<typeof countEvaluations>[0] }] }>(
      `EXPLAIN (ANALYZE, VERBOSE, BUFFERS, FORMAT JSON) ${policyCase.sql}`,
      policyCase.params(tenant, 0.5, sizes),
    ),
  )
  const plan = rows[0]!['QUERY PLAN'][0].Plan
  return { shape: planShape(plan), evaluations: countEvaluations(plan) }
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
const spread = (xs: number[], digits = 2) =>
  `${median(xs).toFixed(digits)} [${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}]`

async function main() {
  const server = await resolveServer(log)
  const adminDb = withDatabase(server.adminUrl, database)
  try {
    await withClient(server.adminUrl, async (admin) => {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
      await admin.query(`CREATE DATABASE ${database}`)
      await admin.query(`DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${appRole}') THEN
          CREATE ROLE ${appRole} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'policy_bench'; END IF; END $$`)
    })
    const settings = await withClient(adminDb, async (admin) => {
      log(`loading ${sizes.tenants} tenants × ${sizes.projectsPerTenant} projects in ${forms.length} forms`)
      await admin.query(SHARED_SQL)
      await admin.query(`GRANT USAGE ON SCHEMA policy_bench TO ${appRole}`)
      for (const form of forms) await admin.query(formSql(form, sizes, appRole))
      await admin.query('VACUUM ANALYZE')
      const { rows } = await admin.query<{ name: string; setting: string }>(
        `SELECT name, setting FROM pg_settings WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'shared_buffers', 'jit') ORDER BY name`,
      )
      return Object.fromEntries(rows.map((row) => [row.name, row.setting]))
    })
    const appUrl = withDatabase(server.adminUrl, database, { name: appRole, password: 'policy_bench' })
    const pools = new Map<string, TenantPool>()
    const poolFor = (form: PolicyForm, max: number) => {
      const key = `${form.name}/${max}`
      let pool = pools.get(key)
      if (!pool) {
        pool = createTenantPool({
          connectionString: appUrl,
          max,
          application_name: `policy_bench_${form.name}`,
          options: `-c search_path=${form.name},public`,
        })
        pools.set(key, pool)
      }
      return pool
    }
    const closePools = async () => {
      for (const pool of pools.values()) await pool.end()
      pools.clear()
    }

    const plans: { form: string; case: string; shape: string; evaluations: Evaluations }[] = []
    for (const policyCase of cases) {
      for (const form of forms) plans.push({ form: form.name, case: policyCase.name, ...(await explain(poolFor(form, 1), policyCase)) })
    }
    await closePools()

    const cells: Cell[] = []
    if (!values['explain-only']) {
      for (let run = 0; run < runs; run++) {
        for (const concurrency of concurrencies) {
          for (const policyCase of cpuCases) {
            // Rotate the order each run so drift does not favour one form.
            const order = cpuForms.map((_, index) => cpuForms[(index + run) % cpuForms.length]!)
            for (const form of order) {
              cells.push({ ...(await measure(server.adminUrl, poolFor(form, concurrency), form, policyCase, concurrency)), run })
              await closePools() // one form's backends at a time
            }
          }
          log(`run ${run + 1}/${runs}, concurrency ${concurrency} done`)
        }
      }
    }
    const report = {
      settings,
      sizes,
      runs,
      sliceMs,
      concurrencies,
      forms,
      cases: cases.map(({ name, about, sql }) => ({ name, about, sql })),
      plans,
      cells,
    }
    if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`)
    process.stdout.write(renderMarkdown(report))
  } finally {
    await withClient(server.adminUrl, async (admin) => {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
      await admin.query(`DROP ROLE IF EXISTS ${appRole}`)
    }).catch((error) => log(`cleanup failed: ${String(error)}`))
    await server.stop()
  }
}

interface Report {
  settings: Record<string, string>
  plans: { form: string; case: string; shape: string; evaluations: Evaluations }[]
  cells: Cell[]
  concurrencies: number[]
  runs: number
}

function renderMarkdown(report: Report): string {
  const lines: string[] = []
  lines.push(
    `Server: ${Object.entries(report.settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
    '',
  )
  lines.push(`Evaluations of current_setting per statement (EXPLAIN ANALYZE, a tenant with ${sizes.projectsPerTenant} projects):`, '')
  lines.push(`| case | ${forms.map((form) => form.name).join(' | ')} |`, `|---|${forms.map(() => '---').join('|')}|`)
  for (const policyCase of cases) {
    const row = forms.map(
      (form) => report.plans.find((plan) => plan.form === form.name && plan.case === policyCase.name)!.evaluations.count,
    )
    lines.push(`| ${policyCase.name} | ${row.join(' | ')} |`)
  }
  lines.push('', 'Where:', '')
  for (const plan of report.plans)
    lines.push(`- ${plan.case} / ${plan.form}: ${plan.shape}; ${plan.evaluations.where.join(', ') || 'none'}`)
  if (report.cells.length === 0) return `${lines.join('\n')}\n`
  const base = cpuForms[0]!.name
  for (const concurrency of report.concurrencies) {
    lines.push(
      '',
      `Concurrency ${concurrency}: server CPU µs/op of ${base}, then each form's server CPU/op as a ratio to it (median [min–max] of ${report.runs} runs); throughput ratio after the slash`,
      '',
    )
    lines.push(
      `| case | ${base} µs/op | ${cpuForms
        .slice(1)
        .map((form) => `${form.name} CPU / ops`)
        .join(' | ')} |`,
      `|---|---|${cpuForms
        .slice(1)
        .map(() => '---')
        .join('|')}|`,
    )
    for (const policyCase of cpuCases) {
      const cell = (form: string, run: number) =>
        report.cells.find((c) => c.form === form && c.case === policyCase.name && c.concurrency === concurrency && c.run === run)!
      const runIds = [...new Set(report.cells.map((c) => c.run))]
      const baseCpu = runIds.map((run) => cell(base, run).serverUsPerOp ?? Number.NaN)
      const ratios = cpuForms.slice(1).map((form) => {
        const cpu = runIds.map((run) => (cell(form.name, run).serverUsPerOp ?? Number.NaN) / (cell(base, run).serverUsPerOp ?? Number.NaN))
        const ops = runIds.map((run) => cell(form.name, run).opsPerSecond / cell(base, run).opsPerSecond)
        return `${spread(cpu)} / ${spread(ops)}`
      })
      lines.push(`| ${policyCase.name} | ${spread(baseCpu, 0)} | ${ratios.join(' | ')} |`)
    }
  }
  return `${lines.join('\n')}\n`
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
