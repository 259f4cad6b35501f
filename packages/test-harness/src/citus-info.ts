/** What the Citus global setup hands to every test file through vitest's provide/inject. */
export interface CitusHarnessInfo {
  coordinatorPort: number
  workerPorts: [number, number]
  citusVersion: string
  prefix: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    tenantscopeCitus: CitusHarnessInfo
  }
}
