import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { withTenant } from '@tenantscope/core'
import { finishMove, type MoveReceipt, moveTenant } from '@tenantscope/lifecycle'
import { createTableDirectory, createTenantRouter, type TenantRouter } from '@tenantscope/router'
import { withClient } from '@tenantscope/test-harness'
import pg from 'pg'
import type { BenchDatabases } from './database.js'
import { seedLargeTenant } from './large-tenant.js'
import { seedWorkload, type Tenant } from './seed.js'

// A 100k-row pool tenant moved between the primary and a region's database
// (export, import, verify, switch), back and forth, while 20 other tenants
// read and write through two app instances (routers whose directories
// listen), and the moving tenant keeps writing (retrying refused writes).
// Reported: the move's wall time, how long its writes were frozen (the
// receipt, and the longest gap between its acknowledged writes), and the
// other tenants' p99 during the moves against their p99 without.

interface Latencies {
  all: number[]
  errors: number
}

const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.99)] ?? Number.NaN
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const spread = (values: number[], digits: number, scale = 1) => {
  const sorted = [...values].sort((a, b) => a - b)
  const f = (v: number) => (v / scale).toFixed(digits)
  return `${f(median(sorted))} [${f(sorted[0]!)}–${f(sorted.at(-1)!)}]`
}

export async function benchMove(databases: BenchDatabases, log: (line: string) => void, quick: boolean): Promise<string[]> {
  const rounds = 3
  const projects = quick ? 5_000 : 20_000
  const [primary, eu] = [await databases.create('move'), await databases.create('move_eu')]
  const folder = await mkdtemp(join(tmpdir(), 'tenantscope-bench-move-'))
  const small = await seedWorkload(primary.adminUrl, 20, 50)
  const id = await seedLargeTenant(primary.adminUrl, projects)
  const big = await withClient(primary.adminUrl, async (admin) => {
    await admin.query(`INSERT INTO tenantscope.tenant_directory (tenant_id, strategy) SELECT id::text, 'pool' FROM tenants`)
    const project = await admin.query(`SELECT id FROM projects WHERE tenant_id = $1 LIMIT 1`, [id])
    return { id, project: project.rows[0].id as string }
  })
  const rows = projects * 5 + 1
  log(`move: a tenant of ${rows.toLocaleString('en')} rows`)
  const admin = new pg.Pool({ connectionString: primary.adminUrl, max: 3 })
  const routers: TenantRouter[] = []
  for (let i = 0; i < 2; i++) {
    const lookups = new pg.Pool({ connectionString: primary.appUrl, max: 2 })
    const directory = await createTableDirectory(lookups, { listen: primary.appUrl })
    directory.onClose(() => lookups.end())
    routers.push(
      createTenantRouter({
        directory,
        pool: { connectionString: primary.appUrl, max: 4 },
        regions: { eu: { connectionString: eu.appUrl, max: 4 } },
      }),
    )
  }
  const successes: number[] = []
  try {
    // Other tenants: a point read, then a write; the moving tenant: writes, retried when refused.
    const run = async (until: () => boolean) => {
      const others: Latencies = { all: [], errors: 0 }
      let lastWrite = performance.now()
      let longestGap = 0
      let refused = 0
      const other = async (router: TenantRouter) => {
        while (!until()) {
          const tenant: Tenant = small[Math.floor(Math.random() * small.length)]!
          const began = performance.now()
          try {
            await withTenant(tenant.id, () => router.query('SELECT id, name FROM projects WHERE id = $1', [tenant.projectIds[0]]))
            others.all.push(performance.now() - began)
            const wrote = performance.now()
            await withTenant(tenant.id, () =>
              router.query('INSERT INTO invoices (tenant_id, project_id, amount_cents) VALUES ($1, $2, 1)', [
                tenant.id,
                tenant.projectIds[0],
              ]),
            )
            others.all.push(performance.now() - wrote)
          } catch {
            others.errors++
          }
        }
      }
      const moving = async (router: TenantRouter) => {
        while (!until()) {
          try {
            await withTenant(big.id, () =>
              router.query('INSERT INTO invoices (tenant_id, project_id, amount_cents) VALUES ($1, $2, 1)', [big.id, big.project]),
            )
            const now = performance.now()
            successes.push(Date.now())
            longestGap = Math.max(longestGap, now - lastWrite)
            lastWrite = now
          } catch (error) {
            if ((error as { code?: string }).code !== 'TENANT_UNAVAILABLE') throw error
            refused++
            await new Promise((resolve) => setTimeout(resolve, 2))
          }
        }
      }
      await Promise.all([
        other(routers[0]!),
        other(routers[1]!),
        other(routers[0]!),
        other(routers[1]!),
        moving(routers[0]!),
        moving(routers[1]!),
      ])
      return { others, longestGap, refused }
    }

    const quiet = quick ? 2000 : 4000
    const without: number[] = []
    const during: number[] = []
    const receipts: MoveReceipt[] = []
    const gaps: number[] = []
    let errors = 0
    let writesInFreeze = 0
    let refusedWrites = 0
    for (let round = 0; round < rounds; round++) {
      const end = performance.now() + quiet
      const base = await run(() => performance.now() > end)
      without.push(...base.others.all)
      errors += base.others.errors
      const to = round % 2 === 0 ? { strategy: 'pool' as const, region: 'eu' } : { strategy: 'pool' as const }
      // The load goes on for a moment after the switch: the moving tenant's first write there ends its longest gap.
      let movedAt = Number.POSITIVE_INFINITY
      const move = moveTenant({
        admin,
        tenantId: big.id,
        to,
        connectionFor: (entry) => (entry.region === 'eu' ? eu.adminUrl : primary.adminUrl),
        directory: join(folder, `move-${round}`),
      }).finally(() => (movedAt = performance.now()))
      const loaded = await run(() => performance.now() > movedAt + 500)
      const receipt = await move
      during.push(...loaded.others.all)
      errors += loaded.others.errors
      receipts.push(receipt)
      gaps.push(loaded.longestGap)
      const switched = Date.parse(receipt.switchedAt)
      writesInFreeze += successes.filter((t) => t > switched - receipt.frozenMillis && t < switched).length
      refusedWrites += loaded.refused
      log(
        `move ${round + 1}: ${receipt.wallMillis} ms, writes frozen ${receipt.frozenMillis} ms (longest write gap ${loaded.longestGap.toFixed(0)} ms)`,
      )
      await finishMove({
        admin,
        tenantId: big.id,
        force: true,
        connectionFor: (entry) => (entry.region === 'eu' ? eu.adminUrl : primary.adminUrl),
      })
    }
    return [
      `### Move`,
      '',
      `A pool tenant of ${rows.toLocaleString('en')} rows moved between the primary and a region's database (another database on the same server), ${rounds} times (back and forth; the old copy erased by finishMove after each), while 20 other tenants each did a point read and an insert through two app instances (routers with listening directories), and the moving tenant kept writing, retrying refused writes.`,
      '',
      '| measure | median [min–max] of 3 moves |',
      '| --- | ---: |',
      `| move wall time (freeze, export, import, verify, switch) | ${spread(
        receipts.map((r) => r.wallMillis),
        2,
        1000,
      )} s |`,
      `| writes frozen (freeze to switch, from the receipt) | ${spread(
        receipts.map((r) => r.frozenMillis),
        2,
        1000,
      )} s |`,
      `| longest gap between the moving tenant's acknowledged writes | ${spread(gaps, 2, 1000)} s |`,
      '',
      `The moving tenant's writes: ${refusedWrites} refused with TENANT_UNAVAILABLE (retried), ${writesInFreeze} acknowledged between the freeze and the switch.`,
      '',
      `Other tenants: p99 ${p99(during).toFixed(1)} ms during the moves (${during.length} operations) vs ${p99(without).toFixed(1)} ms without (${without.length}), ×${(p99(during) / p99(without)).toFixed(2)}; ${errors} errors.`,
      '',
    ]
  } finally {
    await Promise.all(routers.map((router) => router.end()))
    await admin.end()
    await rm(folder, { recursive: true, force: true })
  }
}
