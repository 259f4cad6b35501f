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
  /** Listeners seen before (listeningBackends): their instances are waited for too, even if they drop before the freeze. */
  seen: readonly ListeningBackend[]
}

/** @internal A directory's listening connection: its backend, the instance it names, the role it logged in as. */
export interface ListeningBackend {
  pid: number
  instance: string
  role: string
}

/** @internal The listening connections of app instances' directories on the directory's database now. */
export async function listeningBackends(admin: pg.Pool | pg.ClientBase): Promise<ListeningBackend[]> {
  const { rows } = await admin.query<ListeningBackend>(
    `SELECT pid, substr(application_name, length($1) + 2) AS instance, usename::text AS role FROM pg_stat_activity
      WHERE starts_with(application_name, $1 || ':') AND datname = current_database()`,
    [LISTENER_APPLICATION_NAME],
  )
  return rows
}

/**
 * @internal Freezes a tenant's writes and waits until the freeze is in
 * effect everywhere: every app instance whose directory listens
 * (application_name `tenantscope-directory:<instance>` on the directory's
 * database) has looked the entry up again, seen `moving`, and finished the
 * writable statements it routed before. Each instance acknowledges on
 * tenantscope_directory_ack. The directory row is touched again every
 * 500 ms while some instance has not answered (a listener that reconnected
 * after the change missed its NOTIFY).
 *
 * An acknowledgement counts only from the listening connection itself (the
 * router sends it there): NOTIFY carries the sender's backend pid, which no
 * client can choose, and that pid must be a listener of the instance named,
 * logged in as the role that instance's listener first had. An instance is
 * acknowledged once each of its listening connections has. So a NOTIFY from
 * any other connection, of any role, counts for nothing, and neither does
 * one from an impostor taking an instance's application_name while that
 * instance still listens. Returns the instances that answered;
 * throws FREEZE_TIMEOUT (the caller unfreezes) when one stays silent,
 * and INTERRUPTED (the tenant may stay frozen: run the move again) for any
 * other failure once the freeze began.
 */
export async function freezeWrites(admin: pg.Pool, tenantId: string, options: FreezeOptions): Promise<number> {
  const listener = await admin.connect()
  // Acknowledgements as received (sender pid → instance), and those proven to come from that instance's listener.
  const received = new Map<number, string>()
  const proven = new Map<number, string>()
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
        received.set(message.processId, ack.instance)
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
  const instances = new Set<string>()
  // The role each instance's listener had when first seen: an impostor of another role never counts.
  const roleOf = new Map<string, string>()
  let listening: ListeningBackend[] = []
  const see = (backends: readonly ListeningBackend[]) => {
    for (const backend of backends) {
      instances.add(backend.instance)
      if (!roleOf.has(backend.instance)) roleOf.set(backend.instance, backend.role)
    }
  }
  see(options.seen)
  const look = async () => {
    listening = await listeningBackends(listener)
    see(listening)
    for (const [pid, instance] of received) {
      const sender = listening.find((backend) => backend.pid === pid)
      if (sender?.instance === instance && sender.role === roleOf.get(instance)) proven.set(pid, instance)
    }
  }
  const acknowledged = (instance: string) =>
    [...proven.values()].includes(instance) &&
    listening.every((backend) => backend.instance !== instance || proven.get(backend.pid) === instance)
  try {
    await listener.query(`LISTEN ${DIRECTORY_ACK_CHANNEL}`)
    freezing = true
    frozenAt = BigInt(await options.freeze(listener))
    const deadline = Date.now() + options.timeoutMillis
    for (let round = 0; ; round++) {
      await look()
      if ([...instances].every(acknowledged)) return instances.size
      if (Date.now() >= deadline) {
        throw new TenantLifecycleError(
          'FREEZE_TIMEOUT',
          `${[...instances].filter((i) => !acknowledged(i)).length} of ${instances.size} app instances did not acknowledge the freeze in time`,
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
