import type { ForeignKey, KitTable } from './discover.js'

/**
 * @internal `tables`, and the tables of `all` they reference through `keys`
 * (transitively), each after the tables it references.
 */
export function parentsFirst(tables: KitTable[], all: KitTable[], keys: (table: KitTable) => ForeignKey[]): KitTable[] {
  const byOid = new Map(all.map((table) => [table.oid, table]))
  const order: KitTable[] = []
  const seen = new Set<number>()
  const visit = (table: KitTable) => {
    if (seen.has(table.oid)) return
    seen.add(table.oid)
    for (const key of keys(table)) {
      const parent = byOid.get(key.referencedOid)
      if (parent) visit(parent)
    }
    order.push(table)
  }
  tables.forEach(visit)
  return order
}
