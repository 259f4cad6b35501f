import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ARCHIVE_FORMAT, CopyDigest, type TenantManifest } from './archive.js'
import { TenantLifecycleError } from './lifecycle-error.js'

/**
 * @internal Reads `manifest.json` and checks every data file against it
 * (present, same size, row count and SHA-256) before anything is written.
 */
export async function readArchive(directory: string): Promise<TenantManifest> {
  let manifest: TenantManifest
  try {
    manifest = JSON.parse(await readFile(join(directory, 'manifest.json'), 'utf8')) as TenantManifest
  } catch (error) {
    const missing = (error as { code?: string }).code === 'ENOENT'
    throw new TenantLifecycleError(
      'ARCHIVE_INVALID',
      missing ? 'The archive has no manifest.json (an interrupted export?)' : 'manifest.json is not valid JSON',
    )
  }
  if (manifest?.format !== ARCHIVE_FORMAT || !Array.isArray(manifest.tables) || typeof manifest.tenantId !== 'string') {
    throw new TenantLifecycleError('ARCHIVE_INVALID', `manifest.json is not a ${ARCHIVE_FORMAT} manifest`)
  }
  for (const table of manifest.tables) {
    if (
      typeof table.file !== 'string' ||
      !/^\d{3}-[A-Za-z0-9_.-]+\.copy$/.test(table.file) ||
      !['string', 'undefined'].includes(typeof table.rowsDigest)
    ) {
      throw new TenantLifecycleError('ARCHIVE_INVALID', `The manifest names a data file that is not one of an archive's`)
    }
    const digest = new CopyDigest()
    try {
      await pipeline(createReadStream(join(directory, table.file)), digest, new Writable({ write: (_chunk, _encoding, done) => done() }))
    } catch {
      throw new TenantLifecycleError('ARCHIVE_INVALID', `The data file of ${table.name} is missing or unreadable`)
    }
    if (
      digest.bytes !== table.bytes ||
      digest.rows !== table.rows ||
      digest.digest() !== table.sha256 ||
      (table.rowsDigest !== undefined && digest.rowsDigest() !== table.rowsDigest)
    ) {
      throw new TenantLifecycleError('ARCHIVE_INVALID', `The data file of ${table.name} does not match its checksum (truncated or altered)`)
    }
    // What an import's read-back is compared with.
    table.rowsDigest = digest.rowsDigest()
  }
  return manifest
}
