import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, test } from 'vitest'
import { useFixture } from './_fixtures.js'

const child = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'otel-child.cjs')
// From source, as every test runs (tsx compiles the packages the child requires).
const require = createRequire(import.meta.url)
const NODE_ARGS = ['--import', pathToFileURL(require.resolve('tsx')).href, '--conditions', '@tenantscope/source']

interface SpanSummary {
  name: string
  text?: string
  tenant?: string
  status: number
  error?: string
  errorType?: string
}

// @opentelemetry/instrumentation-pg patches pg.Client#query. tenantscope's
// pipelined statements are custom query objects: their spans must carry the
// statement's text, end on success and on error, and (with tenantSpanHook)
// name the tenant of the statement, under concurrent tenants.
describe('OpenTelemetry (instrumentation-pg)', () => {
  const fixture = useFixture()
  beforeAll(async () => {
    await fixture.admin.query(`INSERT INTO projects (tenant_id, name) VALUES ($1, 'project of A'), ($2, 'project of B')`, [
      fixture.tenantA,
      fixture.tenantB,
    ])
  })

  async function traced(hash: boolean): Promise<{ failed: string; statements: string[]; spans: SpanSummary[] }> {
    const { stdout } = await promisify(execFile)(process.execPath, [...NODE_ARGS, child], {
      cwd: join(dirname(child), '..', '..', '..'),
      env: {
        ...process.env,
        APP_URL: fixture.db.appUrl,
        TENANT_A: fixture.tenantA,
        TENANT_B: fixture.tenantB,
        OTEL_TENANT_HASH: hash ? '1' : '0',
      },
    })
    return JSON.parse(stdout)
  }

  test('every statement gets one ended span with its text and its own tenant; an error ends its span with the SQLSTATE', async () => {
    const { failed, statements, spans } = await traced(false)
    expect(failed).toBe('22012')
    const querySpans = spans.filter((span) => span.text !== undefined)
    // One finished span per statement: none left open, none for the setter.
    expect(querySpans.map((span) => span.text).sort()).toEqual(
      [...statements.filter((text) => text !== "SELECT 'tx' AS who"), 'BEGIN', 'COMMIT', "SELECT 'tx' AS who"].sort(),
    )
    for (const span of querySpans) {
      if (span.text!.includes("'A'") || span.text === 'SELECT 1/0 AS boom') expect(span.tenant).toBe(fixture.tenantA)
      if (span.text!.includes("'B'") || span.text!.includes("'tx'")) expect(span.tenant).toBe(fixture.tenantB)
    }
    const boom = querySpans.find((span) => span.text === 'SELECT 1/0 AS boom')!
    expect(boom.status).toBe(2) // SpanStatusCode.ERROR
    expect(`${boom.error} ${boom.errorType}`).toContain('22012')
  })

  test('hash: the span carries a digest of the tenant, never the id', async () => {
    const { spans } = await traced(true)
    const digest = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 16)
    const tenants = new Set(spans.filter((span) => span.tenant).map((span) => span.tenant))
    expect(tenants).toEqual(new Set([digest(fixture.tenantA), digest(fixture.tenantB)]))
  })
})
