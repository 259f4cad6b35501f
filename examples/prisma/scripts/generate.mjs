// Generates the Prisma client (prisma/schema.prisma → generated/prisma) without the network.
//
// Prisma 7's `prisma-client` generator with a driver adapter needs no engine binary, neither to
// generate nor at run time (the query compiler ships as WebAssembly in @prisma/client). The CLI
// still makes sure the schema engine (used by migrate and db push, not by generate) is present
// when it starts, and downloads it when it is not, which fails on a machine without access to
// Prisma's binary host. PRISMA_SCHEMA_ENGINE_BINARY names an engine to use instead: any existing
// file will do for `generate`, which never runs it. An engine you point it to yourself is kept.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const dir = fileURLToPath(new URL('..', import.meta.url))
const result = spawnSync(process.execPath, ['node_modules/prisma/build/index.js', 'generate'], {
  cwd: dir,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    CHECKPOINT_DISABLE: '1', // no update check over the network
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  },
})
if (result.status !== 0) {
  process.stdout.write(result.stdout ?? '')
  process.exit(result.status ?? 1)
}
