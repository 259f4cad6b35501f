import { describe, expect, test } from 'vitest'
import { PreparedSetters } from '../../src/prepared-setter.js'

// When the pool stops naming the setter. The server side (what 26000 and
// 42P05 look like through a real PgBouncer) is tested in core:pgbouncer;
// here, the decision over many queries, with PgBouncer's connection
// assignment played by a seeded random pick.
const setter = { text: 'SELECT set_config($1, $2, true)', values: ['app.current_tenant', 'a'] }
const missing = Object.assign(new Error('prepared statement does not exist'), { code: '26000' })
const duplicate = Object.assign(new Error('prepared statement already exists'), { code: '42P05' })

function seeded(seed: number): (max: number) => number {
  let state = seed
  return (max) => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return Math.floor((state / 2 ** 31) * max)
  }
}

describe('PreparedSetters: when naming the setter is given up', () => {
  test('warm-up behind a transaction pooler (20 clients over 20 server connections) never gives up', () => {
    const setters = new PreparedSetters()
    const clients = Array.from({ length: 20 }, () => ({}))
    const serverHolds = new Array<boolean>(20).fill(false)
    const pick = seeded(7)
    let misses = 0
    for (let query = 0; query < 20_000; query++) {
      const use = setters.use(clients[pick(clients.length)]!, setter)
      expect(use).toBeDefined()
      const server = pick(serverHolds.length)
      if (use!.parse && serverHolds[server]) {
        misses++
        use!.failed(duplicate)
      } else if (!use!.parse && !serverHolds[server]) {
        misses++
        use!.failed(missing)
      } else {
        serverHolds[server] = true
        use!.applied()
      }
    }
    // The warm-up did miss (each server connection lacked the statement once)...
    expect(misses).toBeGreaterThan(20)
    // ... and every server connection ends up holding it.
    expect(serverHolds.every(Boolean)).toBe(true)
  })

  test('a pooler that loses the statement before every other query makes the pool stop naming it', () => {
    const setters = new PreparedSetters()
    const connection = {}
    let missing26000 = 0
    for (let query = 0; query < 1_000; query++) {
      const use = setters.use(connection, setter)
      if (use === undefined) break
      if (use.parse) use.applied()
      else {
        missing26000++
        use.failed(missing)
      }
    }
    expect(missing26000).toBe(64)
    expect(setters.use(connection, setter)).toBeUndefined()
  })
})
