import type { PostgresServer } from './server.js'

/** What the global setup hands to every test file through vitest's provide/inject. */
export interface HarnessInfo {
  source: PostgresServer['source']
  adminUrl: string
  template: string
  prefix: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    tenantscope: HarnessInfo
  }
}
