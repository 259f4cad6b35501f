/**
 * @internal The slice of a Drizzle node-postgres (or postgres-js) instance
 * that the wrapper reads. These are Drizzle internals, shared by 0.36 … 0.45 and the 1.0
 * release candidates (checked by the tests against each):
 *
 * - `db.constructor(dialect, session, schemaOrRelations)` builds a database;
 * - `db.session.constructor(client, dialect, schemaOrRelations, options)`
 *   builds a node-postgres or postgres-js session (0.x keeps the relational schema in
 *   `session.schema`, 1.0 its relations in `session.relations`);
 * - `db.$client` is the pg client, `db.$cache` the query cache.
 *
 * The wrapper uses the instance's own classes, never an imported copy of
 * drizzle-orm, so it works with whichever drizzle-orm the user installed.
 */
export interface DrizzleSessionLike {
  readonly dialect: unknown
  readonly options?: { cache?: unknown } & Record<string, unknown>
  readonly schema?: unknown
  readonly relations?: unknown
  readonly constructor: new (client: unknown, dialect: unknown, schema: unknown, options: unknown) => DrizzleSessionLike
}

export interface DrizzleDatabaseLike {
  readonly dialect: unknown
  readonly session: DrizzleSessionLike
  $client?: unknown
  $cache?: unknown
  readonly constructor: new (dialect: unknown, session: DrizzleSessionLike, schema: unknown) => DrizzleDatabaseLike
}

// drizzle's entityKind: a global symbol, the same in every installed copy.
const entityKind = Symbol.for('drizzle:entityKind')

/** @internal The `entityKind` name of a Drizzle object's class, e.g. 'NodePgSession'. */
export function entityKindOf(value: unknown): string | undefined {
  const constructor = (value as { constructor?: Record<symbol, unknown> } | null | undefined)?.constructor
  const kind = constructor?.[entityKind]
  return typeof kind === 'string' ? kind : undefined
}

/** @internal True for Drizzle's NodePgSession or a subclass of it. */
export function isNodePgSession(session: unknown): session is DrizzleSessionLike {
  return isEntityOf(session, 'NodePgSession')
}

/** @internal True for what drizzle-orm/node-postgres's drizzle() returns (not withReplicas' wrapper). */
export function isNodePgDatabase(db: unknown): boolean {
  return isEntityOf(db, 'NodePgDatabase')
}

/** @internal True for Drizzle's PostgresJsSession (drizzle-orm/postgres-js) or a subclass of it. */
export function isPostgresJsSession(session: unknown): boolean {
  return isEntityOf(session, 'PostgresJsSession')
}

/** @internal True for what drizzle-orm/postgres-js's drizzle() returns (not withReplicas' wrapper). */
export function isPostgresJsDatabase(db: unknown): boolean {
  return isEntityOf(db, 'PostgresJsDatabase')
}

function isEntityOf(value: unknown, kind: string): boolean {
  let proto: unknown = value !== null && typeof value === 'object' ? Object.getPrototypeOf(value) : null
  while (proto !== null && typeof proto === 'object') {
    const constructor = (proto as { constructor?: Record<symbol, unknown> }).constructor
    if (constructor && Object.hasOwn(constructor, entityKind) && constructor[entityKind] === kind) return true
    proto = Object.getPrototypeOf(proto)
  }
  return false
}
