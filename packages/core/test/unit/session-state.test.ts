import { describe, expect, test } from 'vitest'
import { leavesSessionState } from '../../src/session-state.js'

// Which completed statements mark their connection for destruction on
// release. What PostgreSQL actually leaves behind is tested in
// test/pg/session-state.test.ts; here, the classification, spelling by spelling.
describe('leavesSessionState', () => {
  const leaves: [tag: string, text: string][] = [
    ['SET', 'SET ROLE tenantscope_app'],
    ['SET', 'set session authorization default'],
    ['SET', `SET app.current_tenant = 'x'`],
    ['SET', `/* orm */ SET search_path TO app`],
    ['SET', 'SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE'],
    ['SET', `SET LOCAL a.b = '1'; SET a.c = '2'`],
    ['RESET', 'RESET ALL'],
    ['DISCARD ALL', 'DISCARD ALL'],
    ['LISTEN', 'LISTEN events'],
    ['PREPARE', 'PREPARE p AS SELECT 1'],
    ['DEALLOCATE', 'DEALLOCATE p'],
    ['DEALLOCATE ALL', 'DEALLOCATE ALL'],
    ['LOAD', `LOAD 'auto_explain'`],
    ['DECLARE CURSOR', 'DECLARE c CURSOR WITH HOLD FOR SELECT 1'],
    ['CREATE TABLE', 'CREATE TEMP TABLE t (x int)'],
    ['CREATE TABLE', 'create temporary table t (x int) on commit drop'],
    ['CREATE TABLE', 'CREATE TABLE pg_temp.t (x int)'],
    ['CREATE VIEW', 'CREATE TEMP VIEW v AS SELECT 1'],
    ['SELECT 3', 'CREATE TEMP TABLE t AS SELECT name FROM projects'],
    ['SELECT 3', 'SELECT name INTO TEMP t FROM projects'],
    ['SELECT 3', 'SELECT name INTO TEMPORARY TABLE t FROM projects'],
    ['SELECT 1', `SELECT set_config('app.x', 'y', false)`],
    ['SELECT 1', 'SELECT pg_advisory_lock(1)'],
    ['SELECT 1', 'SELECT pg_try_advisory_lock_shared(1)'],
    ['DO', `DO $$ BEGIN CREATE TEMP TABLE t (x int); END $$`],
    ['DO', `DO $$ BEGIN EXECUTE 'SET ROLE x'; END $$`],
    ['DO', `DO $$ BEGIN PERFORM set_config('app.x', 'y', false); END $$`],
  ]
  const keeps: [tag: string, text: string][] = [
    ['SELECT 1', 'SELECT name FROM projects WHERE id = $1'],
    ['SELECT 1', `SELECT temp FROM readings`],
    ['SELECT 1', `SELECT 'template' AS t, temperature FROM readings`],
    ['SELECT 1', 'SELECT pg_advisory_xact_lock(1)'],
    ['INSERT 0 1', `INSERT INTO notes (body) VALUES ('SET ROLE')`],
    ['UPDATE 2', 'UPDATE t SET x = 1'],
    ['DELETE 1', 'DELETE FROM t'],
    ['BEGIN', 'BEGIN'],
    ['COMMIT', 'COMMIT'],
    ['SET', `SET LOCAL statement_timeout = '5s'`],
    ['SET', '-- comment\nset local role tenantscope_app'],
    ['SET', 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE'],
    ['SET CONSTRAINTS', 'SET CONSTRAINTS ALL DEFERRED'],
    ['DECLARE CURSOR', 'DECLARE c CURSOR FOR SELECT 1'],
    ['CREATE TABLE', 'CREATE TABLE t (x int)'],
    ['CREATE INDEX', 'CREATE INDEX ON t (x)'],
    ['FETCH 1', 'FETCH 1 FROM c'],
    ['COPY 3', 'COPY t FROM STDIN'],
    ['DO', `DO $$ BEGIN RAISE NOTICE 'hello'; END $$`],
    ['UNLISTEN', 'UNLISTEN *'],
    // What a function or procedure does inside is not seen (README: What is not covered).
    ['CALL', 'CALL archive_old_rows()'],
  ]

  test.each(leaves)('%s from %j leaves session state', (tag, text) => {
    expect(leavesSessionState(tag, text)).toBe(true)
  })

  test.each(keeps)('%s from %j leaves none', (tag, text) => {
    expect(leavesSessionState(tag, text)).toBe(false)
  })
})
