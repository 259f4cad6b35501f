import { randomBytes } from 'node:crypto'
import { type Finding, fixScript, runDoctor } from '@tenantscope/doctor'
import { applyMigrations, migrations } from '@tenantscope/sql'
import { type CitusTestDatabase, createCitusTestDatabase, withClient } from '@tenantscope/test-harness'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// `tenantscope doctor` on the 3-node cluster: the Citus findings, each made
// by one mistake on its own table, and their fixes pasted back.
describe('doctor on Citus', () => {
  let db: CitusTestDatabase
  let admin: pg.Pool
  // A role of this file's own: ALTER ROLE is cluster-wide, and other files use the harness's app role at the same time.
  const app = `citus_doctor_app_${randomBytes(4).toString('hex')}`
  const citusFindings = async () => (await runDoctor(admin, { role: app })).findings.filter((finding) => finding.code.startsWith('citus_'))
  const codesOf = (findings: readonly Finding[]) => findings.map((finding) => `${finding.code} ${finding.object}`).sort()

  beforeAll(async () => {
    db = await createCitusTestDatabase()
    admin = new pg.Pool({ connectionString: db.adminUrl, max: 1 })
    await admin.query(`CREATE ROLE ${app} LOGIN PASSWORD 'doctor' NOSUPERUSER NOBYPASSRLS IN ROLE tenantscope_app`)
  })
  afterAll(async () => {
    await admin?.end()
    await db?.drop()
    await withClient(db.adminUrl.replace(/\/[^/]+$/, '/postgres'), (client) => client.query(`DROP ROLE IF EXISTS ${app}`))
  })

  test('the example schema distributed by tenantscope.distribute_tenant_table has no table finding; the role settings are advice', async () => {
    await admin.query(`ALTER ROLE ${app} RESET ALL`)
    const findings = await citusFindings()
    expect(codesOf(findings)).toEqual([`citus_multi_shard_queries_not_logged ${app}`, `citus_propagate_set_commands_not_local ${app}`])
    for (const finding of findings) expect(finding.severity).toBe('info')
    // Nothing else the doctor says is about the Citus policy (no sub-select) either.
    const report = await runDoctor(admin, { role: app })
    expect(report.findings.filter((finding) => finding.severity !== 'info')).toEqual([])
  })

  test('the role settings: each finding goes once the role has the setting its fix sets', async () => {
    await admin.query(`ALTER ROLE ${app} RESET ALL`)
    const before = await citusFindings()
    for (const finding of before) await admin.query(finding.fix!)
    expect(await citusFindings()).toEqual([])
    // A role's settings apply when it logs in (not on SET ROLE).
    const url = new URL(db.adminUrl)
    url.username = app
    url.password = 'doctor'
    const client = new pg.Client({ connectionString: url.toString() })
    await client.connect()
    try {
      const { rows } = await client.query(
        `SELECT current_setting('citus.propagate_set_commands') AS p, current_setting('citus.multi_task_query_log_level') AS m`,
      )
      expect(rows[0]).toEqual({ p: 'local', m: 'warning' })
    } finally {
      await client.end()
    }
    // A per-database setting of the role counts too; one that is not 'local' is reported again.
    await admin.query(`ALTER ROLE ${app} RESET citus.propagate_set_commands`)
    await admin.query(`ALTER ROLE ${app} IN DATABASE ${db.name} SET citus.propagate_set_commands = 'none'`)
    expect(codesOf(await citusFindings())).toEqual([`citus_propagate_set_commands_not_local ${app}`])
    await admin.query(`ALTER ROLE ${app} IN DATABASE ${db.name} SET citus.propagate_set_commands = 'local'`)
    expect(await citusFindings()).toEqual([])
  })

  test('a table distributed on the wrong column, one not colocated, a reference table with tenant rows, one left local: each reported with a fix that works', async () => {
    await admin.query(`ALTER ROLE ${app} SET citus.propagate_set_commands = 'local'`)
    await admin.query(`ALTER ROLE ${app} SET citus.multi_task_query_log_level = 'warning'`)
    await admin.query(`
      CREATE TABLE by_id (tenant_id uuid NOT NULL DEFAULT NULLIF(current_setting('app.current_tenant', true), '')::uuid,
                          id uuid NOT NULL, PRIMARY KEY (tenant_id, id));
      SELECT create_distributed_table('by_id', 'id');
      CREATE TABLE apart (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id));
      SELECT tenantscope.distribute_tenant_table('apart', colocate_with => NULL);
      CREATE TABLE shared_with_tenant (tenant_id uuid NOT NULL, code text NOT NULL, PRIMARY KEY (tenant_id, code));
      SELECT create_reference_table('shared_with_tenant');
      CREATE TABLE left_local (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id));
      GRANT SELECT, INSERT, UPDATE, DELETE ON by_id, apart, shared_with_tenant, left_local TO tenantscope_app;
      INSERT INTO by_id VALUES (gen_random_uuid(), gen_random_uuid());
      INSERT INTO shared_with_tenant VALUES (gen_random_uuid(), 'x');
    `)
    // distribute_tenant_table without colocate_with starts a group of its own when shard counts differ.
    const groups = await admin.query(
      `SELECT count(DISTINCT colocation_id)::int AS n FROM citus_tables WHERE table_name::text IN ('apart', 'projects')`,
    )
    expect(groups.rows[0].n).toBe(2)
    const findings = await citusFindings()
    expect(codesOf(findings)).toEqual([
      'citus_distributed_by_other_column public.by_id',
      'citus_not_colocated public.apart',
      'citus_not_distributed public.left_local',
      'citus_reference_table_with_tenant_rows public.shared_with_tenant',
    ])
    for (const finding of findings) {
      expect(finding.severity).toBe('warning')
      expect(finding.fix).toBeTruthy()
    }
    // The fixes, pasted as the doctor prints them, make every finding go and keep the rows.
    await admin.query(fixScript({ findings }))
    expect(await citusFindings()).toEqual([])
    const { rows } = await admin.query(`
      SELECT table_name::text AS name, distribution_column AS col, colocation_id
        FROM citus_tables WHERE table_name::text IN ('by_id', 'apart', 'shared_with_tenant', 'left_local', 'projects') ORDER BY 1`)
    expect(rows.map((row) => [row.name, row.col])).toEqual([
      ['apart', 'tenant_id'],
      ['by_id', 'tenant_id'],
      ['left_local', 'tenant_id'],
      ['projects', 'tenant_id'],
      ['shared_with_tenant', 'tenant_id'],
    ])
    expect(new Set(rows.map((row) => row.colocation_id)).size).toBe(1)
    const counts = await admin.query(`SELECT (SELECT count(*) FROM by_id)::int AS a, (SELECT count(*) FROM shared_with_tenant)::int AS b`)
    expect(counts.rows[0]).toEqual({ a: 1, b: 1 })
  })

  test('a database without the citus extension gets no Citus finding', async () => {
    const plainName = `${db.name}_plain`
    const server = db.adminUrl.replace(/\/[^/]+$/, '/postgres')
    await withClient(server, (client) => client.query(`CREATE DATABASE ${plainName}`))
    try {
      await withClient(server.replace(/\/postgres$/, `/${plainName}`), async (plain) => {
        await plain.query('SET client_min_messages = warning')
        await applyMigrations(plain, migrations)
        // A table Citus would have to distribute, and a role without the Citus settings: silent all the same.
        await plain.query(`CREATE TABLE local_only (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id))`)
        await plain.query(`SELECT tenantscope.enable_tenant_rls('local_only')`)
        const { rows } = await plain.query(`SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'citus'`)
        expect(rows[0].n).toBe(0)
        const report = await runDoctor(plain, { role: app })
        expect(report.tables).toEqual(['public.local_only'])
        expect(report.findings.filter((finding) => finding.code.startsWith('citus_'))).toEqual([])
      })
    } finally {
      await withClient(server, (client) => client.query(`DROP DATABASE IF EXISTS ${plainName} WITH (FORCE)`))
    }
  })
})
