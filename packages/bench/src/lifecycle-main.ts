import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { eraseTenant, exportTenant, planTenant } from '@tenantscope/lifecycle'
import { MAINTENANCE_ROLE, withClient } from '@tenantscope/test-harness'
import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import { openDatabases } from './database.js'
import { benchErase, parseEraseSettings } from './erase-bench.js'
import { seedLargeTenant } from './large-tenant.js'
import { benchMove } from './move-bench.js'
import { createProcCpuReader } from './proc-cpu.js'
import { seedWorkload } from './seed.js'

// `pnpm bench:lifecycle [--quick] [--only-export] [--rounds n]`: exporting and erasing a large tenant.
// - export: exportTenant against the obvious baseline, one
//   `COPY (SELECT * FROM t WHERE tenant_id = '...') TO STDOUT` per table into
//   a file, in the same run, alternating, several rounds (5 by default);
//   `--only-export` stops after it;
// - erase (erase-bench.ts): other tenants' point-read p99 while a large tenant
//   is erased, against their p99 just before, for several batch sizes and paces;
// - move (move-bench.ts): a 100k-row tenant moved under load; `--only-move` skips the rest.
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`)

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const projects = quick ? 20_000 : 200_000
  const rounds = quick ? 2 : 3
  const roundsArg = process.argv.indexOf('--rounds')
  const exportRounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : quick ? 3 : 5
  if (!Number.isInteger(exportRounds) || exportRounds < 3) throw new Error('--rounds takes a whole number, at least 3')
  const databases = await openDatabases(log)
  const folder = await mkdtemp(join(tmpdir(), 'tenantscope-bench-lifecycle-'))
  try {
    if (process.argv.includes('--only-move')) {
      process.stdout.write(`${(await benchMove(databases, log, quick)).join('\n')}\n`)
      return
    }
    const database = await databases.create('lifecycle')
    const small = await seedWorkload(database.adminUrl, 20, 50)
    await withClient(database.adminUrl, (admin) =>
      admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${MAINTENANCE_ROLE.name};
        GRANT USAGE ON SCHEMA tenantscope TO ${MAINTENANCE_ROLE.name}; GRANT SELECT, INSERT ON tenantscope.tenant_erasures TO ${MAINTENANCE_ROLE.name}`),
    )
    const big = await seedLargeTenant(database.adminUrl, projects)
    const total = projects * 5 + 1
    log(`large tenant: ${total.toLocaleString('en')} rows (${projects} projects, ${projects * 4} invoices)`)

    const client = new pg.Client({ connectionString: database.maintenanceUrl })
    await client.connect()
    const plan = await planTenant(client)
    type Mode = 'export' | 'baseline'
    const modes: Mode[] = ['export', 'baseline']
    const timings: Record<Mode, number[]> = { export: [], baseline: [] }
    // CPU per run beside the time: this Node process (every thread: the export's writer, libuv's file writes)
    // and the connection's backend (from /proc: the server is local here, else it is not reported).
    type Cpu = { node: number; backend: number }
    const cpu: Record<Mode, Cpu[]> = { export: [], baseline: [] }
    const backendPid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
    const procCpu = createProcCpuReader()
    const run = async (mode: Mode, round: number | 'warm-up') => {
      if (mode === 'export') {
        await exportTenant({ client, tenantId: big, directory: join(folder, `export-${round}`) })
        return
      }
      for (const [index, table] of plan.tables.entries()) {
        const column = table.via === 'registry' ? 'id' : 'tenant_id'
        await pipeline(
          client.query(copyTo(`COPY (SELECT * FROM ${table.name} WHERE ${column} = ${client.escapeLiteral(big)}) TO STDOUT`)),
          createWriteStream(join(folder, `baseline-${round}-${index}.copy`)),
        )
      }
    }
    // Untimed, after each run: the files go, so that the page cache and the disk hold one run's at a time.
    const cleanUp = async (round: number | 'warm-up') => {
      await rm(join(folder, `export-${round}`), { recursive: true, force: true })
      await Promise.all(plan.tables.map((_, index) => rm(join(folder, `baseline-${round}-${index}.copy`), { force: true })))
    }
    // One untimed run of each first: the table's pages cached, the code compiled, the export's writer thread up.
    for (const mode of modes) {
      await run(mode, 'warm-up')
      await cleanUp('warm-up')
    }
    for (let round = 0; round < exportRounds; round++) {
      // Each first in turn.
      for (const mode of modes.map((_, i) => modes[(i + round) % modes.length]!)) {
        const nodeBefore = process.cpuUsage()
        const backendBefore = procCpu.read(backendPid) ?? Number.NaN
        const started = performance.now()
        await run(mode, round)
        timings[mode].push(performance.now() - started)
        const node = process.cpuUsage(nodeBefore)
        cpu[mode].push({
          node: (node.user + node.system) / 1000,
          backend: ((procCpu.read(backendPid) ?? Number.NaN) - backendBefore) / 1000,
        })
        await cleanUp(round)
        const spent = cpu[mode].at(-1)!
        log(
          `round ${round + 1} ${mode}: ${(timings[mode].at(-1)! / 1000).toFixed(2)} s (CPU: Node ${(spent.node / 1000).toFixed(2)} s, backend ${(spent.backend / 1000).toFixed(2)} s)`,
        )
      }
    }
    const ratios = timings.export.map((ms, i) => timings.baseline[i]! / ms).sort((a, b) => a - b)

    const onlyExport = process.argv.includes('--only-export')
    // Erase: the export's tenant first, untimed (erase-bench.ts seeds its own each round).
    if (!onlyExport) await eraseTenant({ client, tenantId: big, force: true, pace: 0 })
    await client.end()
    const erase = onlyExport ? [] : await benchErase(database, small, projects, rounds, parseEraseSettings(process.argv), log)

    const median = ratios[Math.floor(ratios.length / 2)]!
    const medianOf = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
    const cpuCell = (mode: Mode) => {
      const backend = medianOf(cpu[mode].map((c) => c.backend))
      return `Node ${(medianOf(cpu[mode].map((c) => c.node)) / 1000).toFixed(2)} s${Number.isNaN(backend) ? '' : `, backend ${(backend / 1000).toFixed(2)} s`}`
    }
    const markdown = [
      '## Tenant lifecycle',
      '',
      `A tenant of ${total.toLocaleString('en')} rows (${projects.toLocaleString('en')} projects, ${(projects * 4).toLocaleString('en')} invoices) beside 20 small tenants. ${databases.version.split(' on ')[0]}.`,
      '',
      '| measure | result | target |',
      '| --- | ---: | --- |',
      `| export throughput × baseline (\`COPY (SELECT * ... WHERE tenant_id = ...)\` per table), median [min–max] of ${exportRounds} rounds | ${median.toFixed(2)} [${ratios[0]!.toFixed(2)}–${ratios.at(-1)!.toFixed(2)}] | ≥ 0.9 |`,
      `| export time, median | ${(medianOf(timings.export) / 1000).toFixed(2)} s (baseline ${(Math.min(...timings.baseline) / 1000).toFixed(2)}–${(Math.max(...timings.baseline) / 1000).toFixed(2)} s) | |`,
      `| CPU per export, median | ${cpuCell('export')} (baseline: ${cpuCell('baseline')}) | |`,
      '',
      "Per round (seconds; CPU of the Node process, all threads, and of the connection's backend):",
      '',
      '| round | export | baseline | ratio |',
      '| --- | --- | --- | ---: |',
      ...timings.export.map((_, i) => {
        const cell = (mode: Mode) =>
          `${(timings[mode][i]! / 1000).toFixed(2)} (Node ${(cpu[mode][i]!.node / 1000).toFixed(2)}, backend ${(cpu[mode][i]!.backend / 1000).toFixed(2)})`
        return `| ${i + 1} (${i % 2 === 0 ? 'export' : 'baseline'} first) | ${cell('export')} | ${cell('baseline')} | ${(timings.baseline[i]! / timings.export[i]!).toFixed(2)} |`
      }),
      '',
      'The export also plans from the catalog, hashes every byte (SHA-256 of each file, on a worker thread that also writes the files) and writes a manifest; the baseline does not. The baseline reads COPY with pg-copy-streams (one buffer per row); the export with its own reader (one buffer per socket read, copy-out.ts). They alternate which goes first; one untimed run of each comes first; the files of each run are removed (untimed) before the next.',
      '',
      ...erase,
    ].join('\n')
    process.stdout.write(`${markdown}\n`)
    if (!process.argv.includes('--no-move') && !onlyExport) process.stdout.write(`${(await benchMove(databases, log, quick)).join('\n')}\n`)
  } finally {
    await rm(folder, { recursive: true, force: true })
    await databases.close()
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})
