import { MAINTENANCE_ROLE, withClient } from '@tenantscope/test-harness'
import { openDatabases } from './database.js'
import { benchErase, parseEraseSettings } from './erase-bench.js'
import { seedWorkload } from './seed.js'

// `pnpm bench:erase [--quick] [--rounds n] [--erase-settings 5000:0,5000:1]`:
// the erase part of `pnpm bench:lifecycle` alone (erase-bench.ts), to compare
// batch sizes and paces without the export's rounds.
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`)

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const roundsAt = process.argv.indexOf('--rounds')
  const rounds = roundsAt >= 0 ? Number(process.argv[roundsAt + 1]) : quick ? 2 : 3
  const databases = await openDatabases(log)
  try {
    const database = await databases.create('erase')
    const small = await seedWorkload(database.adminUrl, 20, 50)
    await withClient(database.adminUrl, (admin) =>
      admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${MAINTENANCE_ROLE.name};
        GRANT USAGE ON SCHEMA tenantscope TO ${MAINTENANCE_ROLE.name}; GRANT SELECT, INSERT ON tenantscope.tenant_erasures TO ${MAINTENANCE_ROLE.name}`),
    )
    const lines = await benchErase(database, small, quick ? 20_000 : 200_000, rounds, parseEraseSettings(process.argv), log)
    process.stdout.write(`${databases.version.split(' on ')[0]}\n\n${lines.join('\n')}\n`)
  } finally {
    await databases.close()
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})
