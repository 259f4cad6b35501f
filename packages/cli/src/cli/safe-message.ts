/**
 * @internal An error as one line without the connection string or its
 * password, which pg may repeat (a URL parse error, a DNS error on the host).
 */
export function safeMessage(error: unknown, connectionString?: string): string {
  let message = describe(error)
  for (const secret of secretsOf(connectionString)) message = message.split(secret).join('***')
  return message.replace(/\s+/g, ' ').trim() || 'unknown error'
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0 && !error.message) return describe(error.errors[0])
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return error.message || (typeof code === 'string' ? code : error.name)
  }
  return String(error)
}

function secretsOf(connectionString: string | undefined): string[] {
  if (!connectionString) return []
  const secrets = [connectionString]
  try {
    const url = new URL(connectionString)
    if (url.password) secrets.push(url.password, decodeURIComponent(url.password))
    const inQuery = url.searchParams.get('password')
    if (inQuery) secrets.push(inQuery)
  } catch {
    // not a URL: the whole string is already hidden
  }
  return secrets.filter((secret) => secret.length > 0).sort((a, b) => b.length - a.length)
}
