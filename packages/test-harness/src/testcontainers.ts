import { existsSync } from 'node:fs'
import type { PostgresServer } from './server.js'

const IMAGE = 'postgres:18-alpine'

/** A PostgreSQL container when a Docker engine answers; undefined otherwise. */
export async function tryTestcontainers(log: (line: string) => void): Promise<PostgresServer | undefined> {
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) {
    log('no Docker engine (no DOCKER_HOST, no /var/run/docker.sock): skipping Testcontainers')
    return undefined
  }
  try {
    const { getContainerRuntimeClient } = await import('testcontainers')
    await withTimeout(getContainerRuntimeClient(), 15_000)
  } catch (error) {
    log(`Docker engine did not answer (${firstLine(error)}): skipping Testcontainers`)
    return undefined
  }
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql')
  log(`starting ${IMAGE} with Testcontainers`)
  const container = await new PostgreSqlContainer(IMAGE).withCommand(['postgres', '-c', 'fsync=off', '-c', 'max_connections=300']).start()
  return {
    source: 'testcontainers',
    adminUrl: container.getConnectionUri(),
    async stop() {
      await container.stop()
    },
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0] ?? ''
}
