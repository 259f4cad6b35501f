import { createRequire } from 'node:module'
import { main } from './cli/main.js'

const { version } = createRequire(import.meta.url)('../package.json') as { version: string }

// Ctrl+C ends the live view of `tenantscope top` cleanly (closing its
// connection); every other command keeps Node's default: exit at once.
const interrupt = new AbortController()
if (process.argv[2] === 'top') process.once('SIGINT', () => interrupt.abort())
const code = await main(
  process.argv.slice(2),
  {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    stderrIsTTY: Boolean(process.stderr.isTTY),
    isTTY: Boolean(process.stdout.isTTY),
    signal: interrupt.signal,
  },
  version,
)
process.exitCode = code
