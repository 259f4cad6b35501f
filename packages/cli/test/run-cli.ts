import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

// The built bin, found the way a user's npx finds it: through the package.
const packageJson = createRequire(import.meta.url).resolve('tenantscope/package.json')
export const BIN = join(dirname(packageJson), 'dist', 'bin.js')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs `node dist/bin.js ...args` as a real process. DATABASE_URL only when given. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const base = { ...process.env }
  delete base.DATABASE_URL
  delete base.TEST_DATABASE_URL
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...base, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}
