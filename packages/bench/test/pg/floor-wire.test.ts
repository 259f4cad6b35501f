import { Socket } from 'node:net'
import { createTestDatabase, type TestDatabase } from '@tenantscope/test-harness'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { openMode } from '../../src/modes.js'
import { seedWorkload, type Tenant } from '../../src/seed.js'
import { FLOOR_WIRE_MODES } from '../../src/shared-server.js'
import { type Operation, WORKLOADS } from '../../src/workloads.js'

// The client-path target shares the server's CPU between the floor and
// tenantscope (shared-server.ts) because the server gets the same bytes from
// both. This holds them to it: every write to the socket of one operation,
// byte for byte, once the connection has parsed its setter. Only the
// setter's name differs, by design, and it is as long.

type Chunk = { chunk: Buffer | string }
// Node's socket writes: _writev for what a cork() gathered, _write otherwise.
const socketWrites = Socket.prototype as unknown as {
  _write(chunk: Buffer, encoding: string, callback: () => void): void
  _writev(chunks: Chunk[], callback: () => void): void
}
const { _write, _writev } = socketWrites
let writes: Buffer[] | undefined

function record(bytes: Buffer) {
  writes?.push(Buffer.from(bytes.toString('latin1').replace(/(bench_floor|tenantscope)_[0-9a-f]{32}/g, 'SETTER'), 'latin1'))
}

describe("the modes that share the floor's server CPU send the floor's bytes", () => {
  let db: TestDatabase
  let tenant: Tenant
  const sent = new Map<string, Buffer[][]>()

  beforeAll(async () => {
    db = await createTestDatabase()
    tenant = (await seedWorkload(db.adminUrl, 1, 2))[0]!
    socketWrites._write = function (this: Socket, chunk, encoding, callback) {
      record(Buffer.from(chunk))
      return _write.call(this, chunk, encoding, callback)
    }
    socketWrites._writev = function (this: Socket, chunks, callback) {
      record(Buffer.concat(chunks.map(({ chunk }) => Buffer.from(chunk))))
      return _writev.call(this, chunks, callback)
    }
    // One operation per workload, the same for every mode: the same tenant, project and amount.
    const picker = { tenant: () => tenant, project: (t: Tenant) => t.projectIds[0]!, int: () => 7 }
    const operations = WORKLOADS.map((workload): [string, Operation] => [workload.name, workload.next(picker)])
    for (const name of FLOOR_WIRE_MODES) {
      const opened = await openMode(name, { appUrl: db.appUrl, maintenanceUrl: db.maintenanceUrl }, 1)
      try {
        const perWorkload: Buffer[][] = []
        for (const [workload, operation] of operations) {
          await opened.mode!.run(operation, workload) // the setter is parsed on the connection's first use
          writes = []
          await opened.mode!.run(operation, workload)
          perWorkload.push(writes)
          writes = undefined
        }
        sent.set(name, perWorkload)
      } finally {
        await opened.close()
      }
    }
  })
  afterAll(async () => {
    Object.assign(socketWrites, { _write, _writev })
    await db?.drop()
  })

  test('the floor sends one write per round trip: one for a statement, five for a 3-statement transaction (BEGIN with the setter, three statements, COMMIT)', () => {
    expect(sent.get('floor')!.map((perOperation) => perOperation.length)).toEqual([1, 1, 1, 5])
  })

  test.each(FLOOR_WIRE_MODES.filter((name) => name !== 'floor'))('%s writes what the floor writes, write for write', (name) => {
    const floor = sent.get('floor')!
    sent.get(name)!.forEach((perOperation, index) => {
      expect(perOperation.map((bytes) => bytes.toString('latin1'))).toEqual(floor[index]!.map((bytes) => bytes.toString('latin1')))
    })
  })
})
