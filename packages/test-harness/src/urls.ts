/** The same server as `url`, another database and optionally another login. */
export function withDatabase(url: string, database: string, login?: { name: string; password: string }): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  if (login) {
    parsed.username = login.name
    parsed.password = login.password
  }
  return parsed.toString()
}

/** `url` with its host and port pointed at a local proxy or pooler. */
export function throughLocalPort(url: string, port: number): string {
  const parsed = new URL(url)
  parsed.hostname = '127.0.0.1'
  parsed.port = String(port)
  return parsed.toString()
}
