import { createRequire } from 'node:module'
import { main } from './cli/main.js'

const { version } = createRequire(import.meta.url)('../package.json') as { version: string }

const code = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  stderrIsTTY: Boolean(process.stderr.isTTY),
}, version)
process.exitCode = code
