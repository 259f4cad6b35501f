import { DIRECTORY_ACK_CHANNEL, LISTENER_APPLICATION_NAME } from '@tenantscope/router'
import type pg from 'pg'
import { TenantLifecycleError } from './lifecycle-error.js'

export interface FreezeOptions {
  /** Makes the change that freezes the tenant (state moving), committed when it resolves. */
  freeze: (client: pg.ClientBase) => Promise<void>
  timeoutMillis: number
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
 * throws FREEZE_TIMEOUT (the caller unfreezes) when one stays silent.
 */
export async function freezeWrites(admin: pg.Pool, tenantId: string, options: FreezeOptions): Promise<number> {
  const listener = await admin.connect()
  const acked = new Set<string>()
  let wake: (() => void) | undefined
  const onNotification = (message: pg.Notification) => {
    if (message.channel !== DIRECTORY_ACK_CHANNEL || !message.payload) return
    try {
      const ack = JSON.parse(message.payload) as { instance?: unknown; tenant?: unknown; state?: unknown }
      // The instance's lookup after the change saw the freeze.
      if (ack.tenant === tenantId && ack.state === 'moving' && typeof ack.instance === 'string') acked.add(ack.instance)
    } catch {
      // not an acknowledgement
    }
    wake?.()
  }
  listener.on('notification', onNotification)
  let broken: Error | undefined
  try {
    await listener.query(`LISTEN ${DIRECTORY_ACK_CHANNEL}`)
    await options.freeze(listener)
    const instances = new Set<string>()
    const deadline = Date.now() + options.timeoutMillis
    for (let round = 0; ; round++) {
      // Instances seen listening at any point since: one that drops and comes back is still waited for.
      const { rows } = await listener.query<{ instance: string }>(
        `SELECT DISTINCT substr(application_name, length($1) + 2) AS instance FROM pg_stat_activity
          WHERE starts_with(application_name, $1 || ':') AND datname = current_database()`,
        [LISTENER_APPLICATION_NAME],
      )
      for (const { instance } of rows) instances.add(instance)
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
    throw error
  } finally {
    listener.removeListener('notification', onNotification)
    const healthy = broken === undefined || TenantLifecycleError.is(broken)
    if (healthy) await listener.query(`UNLISTEN ${DIRECTORY_ACK_CHANNEL}`).catch(() => undefined)
    // A client whose freeze failed midway is not given back to the pool.
    listener.release(healthy ? undefined : broken)
  }
}
