import { DIRECTORY_ACK_CHANNEL, LISTENER_APPLICATION_NAME } from '@tenantscope/router'
import type pg from 'pg'
import { TenantLifecycleError } from './lifecycle-error.js'

export interface FreezeOptions {
  /**
   * Makes the change that freezes the tenant (state moving), committed when
   * it resolves, with the row's version after it (ENTRY_VERSION_SQL):
   * acknowledgements of older versions are of another freeze.
   */
  freeze: (client: pg.ClientBase) => Promise<string>
  timeoutMillis: number
  /** Instances seen listening before (listeningInstances): waited for too, even if they drop before the freeze. */
  seen: readonly string[]
}

/** @internal The app instances whose directory listens on the directory's database now. */
export async function listeningInstances(admin: pg.Pool | pg.ClientBase): Promise<string[]> {
  const { rows } = await admin.query<{ instance: string }>(
    `SELECT DISTINCT substr(application_name, length($1) + 2) AS instance FROM pg_stat_activity
      WHERE starts_with(application_name, $1 || ':') AND datname = current_database()`,
    [LISTENER_APPLICATION_NAME],
  )
  return rows.map((row) => row.instance)
}

/**
 * @internal Freezes a tenant's writes and waits until the freeze is in
 * effect everywhere: every app instance whose directory listens
 * (application_name `tenantscope-directory:<instance>` on the directory's
 * database) has looked the entry up again, seen `moving`, and finished the
 * writable statements it routed before. Each instance acknowledges on
 * tenantscope_directory_ack. The directory row is touched again every
 * 500 ms while some instance has not answered (a listener that reconnected
 * after the change missed its NOTIFY). Returns the instances that answered;
 * throws FREEZE_TIMEOUT (the caller unfreezes) when one stays silent,
 * and INTERRUPTED (the tenant may stay frozen: run the move again) for any
 * other failure once the freeze began.
 */
export async function freezeWrites(admin: pg.Pool, tenantId: string, options: FreezeOptions): Promise<number> {
  const listener = await admin.connect()
  const acked = new Set<string>()
  // Set once the freeze committed: acknowledgements of an earlier version are late answers to another freeze.
  let frozenAt: bigint | undefined
  let wake: (() => void) | undefined
  const onNotification = (message: pg.Notification) => {
    if (message.channel !== DIRECTORY_ACK_CHANNEL || !message.payload) return
    try {
      const ack = JSON.parse(message.payload) as { instance?: unknown; tenant?: unknown; state?: unknown; version?: unknown }
      // The instance's lookup after the change saw this freeze.
      if (
        ack.tenant === tenantId &&
        ack.state === 'moving' &&
        typeof ack.instance === 'string' &&
        frozenAt !== undefined &&
        typeof ack.version === 'string' &&
        /^\d+$/.test(ack.version) &&
        BigInt(ack.version) >= frozenAt
      ) {
        acked.add(ack.instance)
      }
    } catch {
      // not an acknowledgement
    }
    wake?.()
  }
  listener.on('notification', onNotification)
  // A connection lost between two queries is reported by the next one; unheard, the event would crash the process.
  const onError = () => undefined
  listener.on('error', onError)
  let broken: Error | undefined
  let freezing = false
  // Instances seen listening at any point since before the freeze: one that drops and comes back is still waited for.
  const instances = new Set<string>(options.seen)
  const look = async () => {
    for (const instance of await listeningInstances(listener)) instances.add(instance)
  }
  try {
    await listener.query(`LISTEN ${DIRECTORY_ACK_CHANNEL}`)
    freezing = true
    frozenAt = BigInt(await options.freeze(listener))
    const deadline = Date.now() + options.timeoutMillis
    for (let round = 0; ; round++) {
      await look()
      if ([...instances].every((instance) => acked.has(instance))) return instances.size
      if (Date.now() >= deadline) {
        throw new TenantLifecycleError(
          'FREEZE_TIMEOUT',
          `${[...instances].filter((i) => !acked.has(i)).length} of ${instances.size} app instances did not acknowledge the freeze in time`,
        )
      }
      if (round > 0 && round % 5 === 0) {
        await listener.query(`UPDATE tenantscope.tenant_directory SET updated_at = now() WHERE tenant_id = $1 AND state = 'moving'`, [
          tenantId,
        ])
      }
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, 100)
      })
      wake = undefined
    }
  } catch (error) {
    broken = error as Error
    if (freezing && !TenantLifecycleError.is(error)) {
      throw new TenantLifecycleError(
        'INTERRUPTED',
        'The move was interrupted while freezing the tenant: it may stay frozen where it was (reads served, writes refused). Run the move again to complete it.',
        { cause: error },
      )
    }
    throw error
  } finally {
    listener.removeListener('notification', onNotification)
    listener.removeListener('error', onError)
    const healthy = broken === undefined || TenantLifecycleError.is(broken)
    if (healthy) await listener.query(`UNLISTEN ${DIRECTORY_ACK_CHANNEL}`).catch(() => undefined)
    // A client whose freeze failed midway is not given back to the pool.
    listener.release(healthy ? undefined : broken)
  }
}
