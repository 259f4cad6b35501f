import { parseOptions } from './args.js'
import { openDatabases } from './database.js'
import { renderPostgresJsSection, runPostgresJsComparison } from './postgres-js-comparison.js'
import { seedWorkload } from './seed.js'
import { createPicker, WORKLOADS } from './workloads.js'

// `pnpm --filter @tenantscope/bench bench:postgres-js [--rounds N --slice-ms N --workloads ... --cells loopback:16,...]`:
// only the postgres.js comparison, printed as a Markdown table (pnpm bench
// runs it too and adds the table to docs/benchmarks.md).
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`)

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((arg, index) => !(index === 0 && arg === '--'))
  const prepare = !args.includes('--no-prepare')
  const options = parseOptions(args.filter((arg) => arg !== '--no-prepare'))
  const workloads = options.workloads ? WORKLOADS.filter((w) => options.workloads!.includes(w.name)) : [...WORKLOADS]
  const databases = await openDatabases(log)
  try {
    log(`PostgreSQL: ${databases.version}`)
    const database = await databases.create('postgres_js')
    const pick = createPicker(await seedWorkload(database.adminUrl, 100, 100))
    const networks = [...new Set(options.cells.map((cell) => cell.network))]
    const concurrency = [...new Set(options.cells.map((cell) => cell.concurrency))]
    const rows = await runPostgresJsComparison(database, pick, workloads, { ...options, networks, concurrency, prepare }, log)
    process.stdout.write(renderPostgresJsSection(rows, options.latencyMs))
  } finally {
    await databases.close()
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})
