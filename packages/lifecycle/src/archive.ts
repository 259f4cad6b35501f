import { createHash } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import type { PlannedColumn } from './tenant-plan.js'

/** The archive format this version writes and reads. */
export const ARCHIVE_FORMAT = 'tenantscope-tenant-archive/1'

/** `manifest.json` of an archive: everything needed to check it and to restore it elsewhere. */
export interface TenantManifest {
  format: typeof ARCHIVE_FORMAT
  tenantId: string
  tenantColumn: string
  exportedAt: string
  source: {
    serverVersion: string
    database: string
    /** Rows of the migration tables found (Drizzle, Prisma, Knex, ...): how far the source's schema had come. */
    migrations: { table: string; count: number; latest: string | null }[]
  }
  /** Parents first: the order to import in. */
  tables: ManifestTable[]
}

export interface ManifestTable {
  name: string
  via: string
  /** The data file, in COPY's text format, relative to the archive. */
  file: string
  columns: PlannedColumn[]
  rows: number
  bytes: number
  /** SHA-256 of the data file, hex. */
  sha256: string
}

/** @internal The data file of the n-th table: a name any file system takes. */
export function dataFileName(index: number, table: string): string {
  return `${String(index + 1).padStart(3, '0')}-${table.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 100)}.copy`
}

/**
 * @internal Passes COPY text through, counting rows (one line each: COPY's
 * text format escapes newlines inside values) and hashing the bytes.
 */
export class CopyDigest extends Transform {
  rows = 0
  bytes = 0
  readonly #hash = createHash('sha256')

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#hash.update(chunk)
    this.bytes += chunk.length
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.rows++
    done(null, chunk)
  }

  digest(): string {
    return this.#hash.digest('hex')
  }
}
