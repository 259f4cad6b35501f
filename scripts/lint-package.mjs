// `pnpm lint:package` in a publishable package: lints the package as it
// would be published. pnpm packs it (applying .pnpmfile.cjs, which removes the
// `@tenantscope/source` export condition), then the tarball is checked:
// nothing in its manifest points at src (which is not shipped), publint
// (--strict) and attw (node16 profile) pass.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const dir = mkdtempSync(join(tmpdir(), 'tenantscope-pack-'))
try {
  execFileSync('pnpm', ['pack', '--pack-destination', dir], { stdio: ['ignore', 'ignore', 'inherit'] })
  const tarball = join(
    dir,
    readdirSync(dir).find((file) => file.endsWith('.tgz')),
  )
  const manifest = execFileSync('tar', ['-xOzf', tarball, 'package/package.json'], { encoding: 'utf8' })
  if (manifest.includes('@tenantscope/source') || /"\.\/src\//.test(manifest)) {
    console.error(`${tarball}: the packed package.json still points at src:\n${manifest}`)
    process.exit(1)
  }
  execFileSync('publint', ['run', tarball, '--strict'], { stdio: 'inherit' })
  execFileSync('attw', [tarball, '--profile', 'node16'], { stdio: 'inherit' })
} finally {
  rmSync(dir, { recursive: true, force: true })
}
