import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

// The generated client is not committed: generate it before the tests import it.
export default function generatePrismaClient(): void {
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/generate.mjs', import.meta.url))], { stdio: 'inherit' })
}
