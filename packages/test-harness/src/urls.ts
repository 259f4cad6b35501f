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
