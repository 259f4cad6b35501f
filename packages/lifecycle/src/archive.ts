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
  /** SHA-256 of the data file, hex: the archive is intact. */
  sha256: string
  /**
   * A digest of the rows that does not depend on their order (the sum of a
   * 64-bit hash of each row), hex: after an import, the rows read back from
   * the target, in whatever order, must give the same. Derived from the data
   * file when the archive is read (the file's SHA-256 vouches for it), so
   * the export does not spend time on it; earlier exports wrote it here, and
   * it is then checked too.
   */
  rowsDigest?: string
}

/** @internal The data file of the n-th table: a name any file system takes. */
export function dataFileName(index: number, table: string): string {
  return `${String(index + 1).padStart(3, '0')}-${table.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 100)}.copy`
}

/** @internal The buffer of an export's streams. */
export const EXPORT_BUFFER = 1 << 20

/**
 * @internal What an export computes as COPY text passes to its file: the
 * SHA-256 and the size, natively; rows are counted (a native newline search)
 * only when `countRows`, for a progress display. The manifest's row count
 * is COPY's own.
 */
export class ExportHash extends Transform {
  rows = 0
  bytes = 0
  readonly #hash = createHash('sha256')
  readonly #countRows: boolean

  constructor(countRows: boolean) {
    // Room for several of COPY's chunks (each a socket read, ~64 KiB): at the default 16 KiB every chunk
    // signalled backpressure, and pg-copy-streams paused the connection's socket once per chunk.
    super({ highWaterMark: EXPORT_BUFFER })
    this.#countRows = countRows
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#hash.update(chunk)
    this.bytes += chunk.length
    if (this.#countRows) for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) this.rows++
    done(null, chunk)
  }

  digest(): string {
    return this.#hash.digest('hex')
  }
}

/**
 * @internal Passes COPY text through, counting rows (one line each: COPY's
 * text format escapes newlines inside values), hashing the bytes (SHA-256)
 * and the rows (an order-independent sum of two 32-bit FNV-1a hashes per
 * row, so that rows read back in another order give the same digest).
 */
export class CopyDigest extends Transform {
  rows = 0
  bytes = 0
  readonly #hash = createHash('sha256')
  // The row being read (it may span chunks), and the sums over finished rows.
  #rowA = FNV_OFFSET
  #rowB = FNV_OFFSET_B
  #sumA = 0
  #sumB = 0

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#hash.update(chunk)
    this.bytes += chunk.length
    let a = this.#rowA
    let b = this.#rowB
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!
      if (byte === 10) {
        this.#sumA = (this.#sumA + a) >>> 0
        this.#sumB = (this.#sumB + b) >>> 0
        this.rows++
        a = FNV_OFFSET
        b = FNV_OFFSET_B
      } else {
        a = Math.imul(a ^ byte, FNV_PRIME) >>> 0
        b = Math.imul(b ^ byte, FNV_PRIME_B) >>> 0
      }
    }
    this.#rowA = a
    this.#rowB = b
    done(null, chunk)
  }

  digest(): string {
    return this.#hash.digest('hex')
  }

  rowsDigest(): string {
    return `${this.#sumA.toString(16).padStart(8, '0')}${this.#sumB.toString(16).padStart(8, '0')}`
  }
}

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193
// A second FNV-1a lane with another offset and prime: two 32-bit sums make accidental agreement unlikely.
const FNV_OFFSET_B = 0x050c5d1f
const FNV_PRIME_B = 0x01000197
