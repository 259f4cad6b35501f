// node --import tsx src/instructions-child.ts <mode> <workload> <warm-up operations> <operations>
//
// One mode's operations against CannedSocket connections (no server), 16 at
// a time on a pool of 16, for instructions-main.ts to count under valgrind:
// the warm-up (every workload in turn, the writes too: the socket completes
// them with their tag), then the measured operations, then exit. Tenants
// are picked by Math.random, which node's --random-seed makes the same in
// every run.
import { createTenantPool } from '@tenantscope/core'
import pg from 'pg'
import { CannedSocket } from './canned-socket.js'
import { runFloor, runFloorInContext, runTenantPool } from './modes.js'
import type { Tenant } from './seed.js'
import { createPicker, type Operation, WORKLOADS } from './workloads.js'

/** The modes that run here: those that need nothing of a server beyond its replies. */
export const INSTRUCTION_MODES = ['floor', 'floor-als', 'tenantscope'] as const
/** The workloads measured here: reads, whose rows the socket can make up (all four run in the warm-up). */
export const INSTRUCTION_WORKLOADS = ['point', 'top10'] as const

const CONCURRENCY = 16

export async function runCanned(mode: string, workloadName: string, warmUp: number, operations: number): Promise<void> {
  const workload = WORKLOADS.find((candidate) => candidate.name === workloadName)
  if (!workload || !(INSTRUCTION_WORKLOADS as readonly string[]).includes(workloadName))
    throw new Error(`not a workload here: ${workloadName}`)
  const pool = new pg.Pool({ stream: () => new CannedSocket(), max: CONCURRENCY, idleTimeoutMillis: 0 } as pg.PoolConfig)
  const run = runnerOf(mode, pool)
  const tenants: Tenant[] = Array.from({ length: 100 }, (_, t) => ({
    id: uuid(t, 0),
    projectIds: Array.from({ length: 10 }, (_, p) => uuid(t, p + 1)),
  }))
  const pick = createPicker(tenants)
  try {
    // The pool's connections open first, as the bench's warm pools do.
    const clients = await Promise.all(Array.from({ length: CONCURRENCY }, () => pool.connect()))
    for (const client of clients) client.release()
    // The warm-up takes the workloads in turn, as the bench's processes warm
    // up on all four: a point read after transactions and inserts runs code
    // that has seen more kinds of object than one after point reads only.
    await runOperations(warmUp, run, (left) => WORKLOADS[left % WORKLOADS.length]!.next(pick))
    await runOperations(operations, run, () => workload.next(pick))
  } finally {
    await pool.end()
  }
}

// `count` operations, CONCURRENCY at a time: counted down before each one
// starts, so that exactly `count` run.
async function runOperations(
  count: number,
  run: (operation: Operation) => Promise<void>,
  next: (left: number) => Operation,
): Promise<void> {
  let left = count
  const worker = async () => {
    while (left > 0) {
      left--
      await run(next(left))
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
}

function runnerOf(mode: string, pool: pg.Pool): (operation: Operation) => Promise<void> {
  switch (mode) {
    case 'floor':
      return (operation) => runFloor(pool, operation)
    case 'floor-als':
      return (operation) => runFloorInContext(pool, operation)
    case 'tenantscope': {
      const tenantPool = createTenantPool(pool)
      return (operation) => runTenantPool(tenantPool, operation)
    }
    default:
      throw new Error(`not a mode here: ${mode} (${INSTRUCTION_MODES.join(', ')})`)
  }
}

function uuid(tenant: number, item: number): string {
  return `0b7c2f2e-${String(item).padStart(4, '0')}-4000-8000-${String(tenant).padStart(12, '0')}`
}

if (process.argv[1]?.endsWith('instructions-child.ts')) {
  const [mode, workload, warmUp, operations] = process.argv.slice(2)
  await runCanned(mode!, workload!, Number(warmUp), Number(operations))
}
