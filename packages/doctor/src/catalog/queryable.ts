/** Anything with pg's `query(text, values)`: a pg.Pool, pg.Client or PoolClient. */
export interface DoctorQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>
}

/** A connection the doctor opened to another database, closed with `end()`. */
export interface DoctorConnection extends DoctorQueryable {
  end(): Promise<void>
}
