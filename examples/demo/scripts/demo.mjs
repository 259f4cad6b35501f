// `pnpm demo [--keep] [--port N]`: runs the demo from the packages' source
// (no build needed).
//
// One Node process between pnpm and the demo, on purpose: Ctrl+C signals the
// whole process group. A shell in between dies of that SIGINT, and pnpm then
// reports ELIFECYCLE although the demo stopped cleanly. This process ignores
// the signal, lets the demo finish its cleanup, and leaves with the demo's code.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const demoDir = fileURLToPath(new URL('..', import.meta.url))
process.on('SIGINT', () => undefined)
process.on('SIGTERM', () => undefined)

const demo = spawn(process.execPath, ['--import', 'tsx', '--conditions=@tenantscope/source', 'src/main.ts', ...process.argv.slice(2)], {
  cwd: demoDir,
  stdio: 'inherit',
})
demo.on('close', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)))
