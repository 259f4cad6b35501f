import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

// The bin's source, run as a real process the way the tests run everything:
// from source (tsx compiles it; the `@tenantscope/source` condition resolves
// the workspace packages it imports to their source), so no build comes
// first. That the packed package's `bin` points at a built file is checked
// by `pnpm lint:packages`.
const require = createRequire(import.meta.url)
export const BIN = join(dirname(require.resolve('tenantscope/package.json')), 'src', 'bin.ts')
const NODE_ARGS = ['--import', pathToFileURL(require.resolve('tsx')).href, '--conditions', '@tenantscope/source']

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs `node src/bin.ts ...args` (through tsx) as a real process. DATABASE_URL only when given. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const base = { ...process.env }
  delete base.DATABASE_URL
  delete base.TEST_DATABASE_URL
  return new Promise((resolve) => {
    execFile(process.execPath, [...NODE_ARGS, BIN, ...args], { env: { ...base, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}
