import { createReadStream } from 'node:fs'
import { type FileHandle, open, rm } from 'node:fs/promises'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import { EXPORT_BUFFER } from './archive.js'
import { copyOut } from './copy-out.js'
import { useStableOutput } from './session-settings.js'
import { ident, type PlannedTable } from './tenant-plan.js'

/** @internal Tables smaller than this on disk are read whole: a second connection would not pay for itself. */
export const SPLIT_MIN_BYTES = 32 << 20

/** @internal The second half's COPY text held in memory while the first is written; beyond it, spooled to a file. */
export const TAIL_MEMORY = 64 << 20

/**
 * @internal The tables worth reading in two halves, each with its first
 * block of the second half. On 2 cores an export of a large tenant is bound
 * by its one backend (COPY's output functions), so a second backend reading
 * the second half of the table at the same time shortens it. Only tables the
 * server reads by a sequential scan anyway (the tenant is a large share of
 * them: two TID range scans then do the same work), that are large on disk,
 * on PostgreSQL 14 or later (TID range scans; earlier, `ctid <` would be a
 * filter over the whole table).
 */
export async function splitPoints(client: pg.ClientBase, tables: PlannedTable[], minBytes: number): Promise<Map<string, number>> {
  const splits = new Map<string, number>()
  const { rows } = await client.query<{ name: string; bytes: string; blocks: string; tid_ranges: boolean }>(
    `SELECT n AS name, pg_relation_size(n::regclass) AS bytes, pg_relation_size(n::regclass) / current_setting('block_size')::int8 AS blocks,
            current_setting('server_version_num')::int >= 140000 AS tid_ranges
       FROM unnest($1::text[]) n`,
    [tables.map((table) => table.name)],
  )
  for (const row of rows) {
    const table = tables.find((t) => t.name === row.name)!
    if (!row.tid_ranges || Number(row.bytes) < minBytes || Number(row.blocks) < 2) continue
    const { rows: explained } = await client.query(`EXPLAIN (FORMAT JSON) ${table.select}`)
    const top = (explained[0]?.['QUERY PLAN'] as { Plan?: { 'Node Type'?: string } }[] | undefined)?.[0]?.Plan?.['Node Type']
    if (top === 'Seq Scan') splits.set(table.name, Math.ceil(Number(row.blocks) / 2))
  }
  return splits
}

/**
 * @internal A second connection inside the export's snapshot: its own
 * repeatable-read, read-only transaction that imports the snapshot the
 * export's transaction exported, with the same output settings (the same
 * rows give the same bytes). It must be the same role as the export's
 * (a role that RLS applies to would see fewer rows, silently).
 */
export async function openSnapshotWorker(
  client: pg.ClientBase,
  connect: () => Promise<pg.Client>,
  tenantId: string,
): Promise<{ worker: pg.Client; close(): Promise<void> }> {
  const { rows } = await client.query<{ snapshot: string; role: string }>('SELECT pg_export_snapshot() AS snapshot, current_user AS role')
  const { snapshot, role } = rows[0]!
  // SET TRANSACTION SNAPSHOT takes no parameters; an id is hex digits and dashes.
  if (!/^[0-9A-Fa-f-]+$/.test(snapshot)) throw new Error(`Unexpected snapshot id ${JSON.stringify(snapshot)}`)
  const worker = await connect()
  // Errors of its queries reject them; one between queries (the server gone) must not crash the process.
  worker.on('error', () => undefined)
  try {
    await worker.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    await worker.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`)
    const { rows: same } = await worker.query<{ role: string }>('SELECT current_user AS role')
    if (same[0]!.role !== role) throw new Error(`The export's second connection is ${same[0]!.role}, not ${role}`)
    await useStableOutput(worker, tenantId)
  } catch (error) {
    await worker.end().catch(() => undefined)
    throw error
  }
  return {
    worker,
    async close() {
      // Read only: nothing to commit; ending the connection ends its transaction.
      await worker.end().catch(() => undefined)
    },
  }
}

/**
 * @internal One table read in two halves at once, written in order to the
 * data file's streams: blocks before `split` on the export's connection,
 * straight into the file; the rest on the worker, held (up to TAIL_MEMORY,
 * then in a spool file beside it) and appended (and hashed) after the first
 * half: a spool costs its bytes written and read once more, which on 2
 * cores cost about what the second connection saved. The file is the same
 * bytes as one sequential scan's COPY. Returns the rows COPY reported.
 */
export async function copySplit(
  client: pg.ClientBase,
  worker: pg.ClientBase,
  table: PlannedTable,
  split: number,
  streams: Writable[],
  spoolPath: string,
  memory: number,
): Promise<number> {
  const select = (range: string) =>
    `COPY (SELECT ${table.columns.map((c) => ident(c.name)).join(', ')} FROM ${table.name} t WHERE (${table.filter}) AND t.ctid ${range} '(${split},0)'::tid) TO STDOUT`
  const head = client.query(copyOut(select('<'), EXPORT_BUFFER))
  const tail = worker.query(copyOut(select('>='), EXPORT_BUFFER))
  // Settles with the worker's error, if any, so that it is never an unhandled rejection; it stops the first half too.
  const held = new TailBuffer(spoolPath, memory)
  const spooled = pipeline(tail, held).then(
    () => undefined,
    (error: Error) => {
      head.destroy(error)
      return error
    },
  )
  async function* inOrder() {
    for await (const chunk of head) yield chunk as Buffer
    const error = await spooled
    if (error) throw error
    yield* held.chunks
    if (held.spilled) for await (const chunk of createReadStream(spoolPath, { highWaterMark: EXPORT_BUFFER })) yield chunk as Buffer
  }
  try {
    await pipeline([Readable.from(inOrder()), ...streams])
  } catch (error) {
    tail.destroy()
    await spooled
    throw error
  } finally {
    await held.discard()
  }
  return head.rowCount + tail.rowCount
}

/** COPY text kept in order: the first `memory` bytes as they came, the rest in a file. */
class TailBuffer extends Writable {
  readonly chunks: Buffer[] = []
  spilled = false
  #held = 0
  #file: FileHandle | undefined
  readonly #path: string
  readonly #memory: number

  constructor(path: string, memory: number) {
    super({ highWaterMark: EXPORT_BUFFER })
    this.#path = path
    this.#memory = memory
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    // COPY's chunks are fresh socket reads (copy-out.ts): kept as they are, not copied.
    if (!this.spilled && this.#held + chunk.length <= this.#memory) {
      this.chunks.push(chunk)
      this.#held += chunk.length
      done()
      return
    }
    this.spilled = true
    void (async () => {
      this.#file ??= await open(this.#path, 'w')
      await this.#file.write(chunk)
    })().then(() => done(), done)
  }

  override _final(done: (error?: Error | null) => void): void {
    const file = this.#file
    this.#file = undefined
    if (file) file.close().then(() => done(), done)
    else done()
  }

  /** Frees the memory and removes the spool file, whatever happened. */
  async discard(): Promise<void> {
    this.chunks.length = 0
    await this.#file?.close().catch(() => undefined)
    this.#file = undefined
    await rm(this.#path, { force: true })
  }
}
