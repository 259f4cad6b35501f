// `pnpm demo [--keep] [--port N]`: build the packages, then run the demo.
//
// One Node process between pnpm and the demo, on purpose:
// - the build's output (~150 lines of tsup) is only worth reading when it
//   fails: one line here, all of it on failure;
// - Ctrl+C signals the whole process group. A shell in between
//   (`pnpm build && pnpm start`) dies of that SIGINT, and pnpm then reports
//   ELIFECYCLE although the demo stopped cleanly. This process ignores the
//   signal, lets the demo finish its cleanup, and leaves with the demo's code.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const demoDir = fileURLToPath(new URL('..', import.meta.url))
const root = fileURLToPath(new URL('../../..', import.meta.url))
let interrupted = false
process.on('SIGINT', () => (interrupted = true))
process.on('SIGTERM', () => (interrupted = true))

// TENANTSCOPE_DEMO_BUILD=0 skips the build: for the demo's tests, which run
// beside others that read the packages' dist (a build empties it first).
if (process.env.TENANTSCOPE_DEMO_BUILD !== '0') {
  const started = Date.now()
  process.stdout.write('Building the packages… ')
  const output = []
  const build = spawn('pnpm', ['build'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  build.stdout.on('data', (chunk) => output.push(chunk))
  build.stderr.on('data', (chunk) => output.push(chunk))
  const built = await new Promise((resolve) => build.on('close', (code) => resolve(code === 0)))
  if (!built || interrupted) {
    process.stdout.write(interrupted ? 'interrupted\n' : 'failed:\n\n')
    if (!interrupted) process.stderr.write(Buffer.concat(output))
    process.exit(interrupted ? 130 : 1)
  }
  process.stdout.write(`done in ${((Date.now() - started) / 1000).toFixed(1)}s\n\n`)
}

const demo = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...process.argv.slice(2)], { cwd: demoDir, stdio: 'inherit' })
demo.on('close', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)))
