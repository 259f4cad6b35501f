import { type ChildProcess, fork } from 'node:child_process'
import { Session } from 'node:inspector/promises'
import { fileURLToPath } from 'node:url'
import { type CpuProfile, type JsProfile, summarizeProfile } from './js-profile.js'
import { type ModeUrls, openMode } from './modes.js'
import { runSlice, type Sample } from './runner.js'
import type { Tenant } from './seed.js'
import { createPicker, WORKLOADS } from './workloads.js'

/**
 * One mode in a process of its own. Modes that shared a process shared pg's
 * code, the JIT's view of it and the heap, and every mode's client CPU rose
 * with the others' beside it (raw pg's per point read nearly doubled among
 * nine modes), which hid what each one costs. The run's process asks for
 * slices in turn, so the modes still alternate in time; each reports its own
 * process's CPU.
 */
type Request =
  | { type: 'open'; name: string; urls: ModeUrls; size: number; tenants: Tenant[] }
  | { type: 'slice'; workload: string; concurrency: number; durationMs: number; profile?: boolean }
  | { type: 'close' }
type Reply =
  | { type: 'opened'; note: string | undefined; runs: boolean }
  | { type: 'sample'; sample: Sample; js?: JsProfile }
  | { type: 'closed' }
  | { type: 'failed'; error: string }

/** The run's handle on a mode's process. */
export interface ModeProcess {
  readonly name: string
  /** False when the mode cannot run here (`note` says why); its process is closed then. */
  readonly runs: boolean
  readonly note: string | undefined
  /** A slice of `workload` with `concurrency` workers; its client CPU is the mode's process's. */
  slice(workload: string, concurrency: number, durationMs: number): Promise<Sample>
  /** A slice under V8's CPU profiler: where its JavaScript time went (js-profile.ts). The profiler's own cost is in its CPU. */
  profile(workload: string, concurrency: number, durationMs: number): Promise<{ sample: Sample; js: JsProfile }>
  close(): Promise<void>
}

export async function startModeProcess(name: string, urls: ModeUrls, size: number, tenants: Tenant[]): Promise<ModeProcess> {
  const child = fork(fileURLToPath(import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' })
  const ask = request(child, name)
  const opened = await ask({ type: 'open', name, urls, size, tenants }).catch((error: unknown) => {
    child.kill()
    throw error
  })
  if (opened.type !== 'opened') throw new Error(`${name}: unexpected reply ${opened.type}`)
  const handle: ModeProcess = {
    name,
    runs: opened.runs,
    note: opened.note,
    async slice(workload, concurrency, durationMs) {
      const reply = await ask({ type: 'slice', workload, concurrency, durationMs })
      if (reply.type !== 'sample') throw new Error(`${name}: unexpected reply ${reply.type}`)
      return reply.sample
    },
    async profile(workload, concurrency, durationMs) {
      const reply = await ask({ type: 'slice', workload, concurrency, durationMs, profile: true })
      if (reply.type !== 'sample' || !reply.js) throw new Error(`${name}: unexpected reply ${reply.type}`)
      return { sample: reply.sample, js: reply.js }
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return
      await ask({ type: 'close' }).catch(() => child.kill())
    },
  }
  if (!opened.runs) await handle.close()
  return handle
}

// One request at a time: the reply, or the child's failure or exit.
function request(child: ChildProcess, name: string): (message: Request) => Promise<Reply> {
  return (message) =>
    new Promise((resolve, reject) => {
      const onMessage = (reply: Reply) => {
        cleanup()
        if (reply.type === 'failed') reject(new Error(`${name}: ${reply.error}`))
        else resolve(reply)
      }
      const onExit = (code: number | null) => {
        cleanup()
        if (message.type === 'close') resolve({ type: 'closed' })
        else reject(new Error(`${name}: its process exited (code ${code}) during ${message.type}`))
      }
      const cleanup = () => {
        child.off('message', onMessage)
        child.off('exit', onExit)
      }
      child.on('message', onMessage)
      child.on('exit', onExit)
      child.send(message)
    })
}

// The child: opens its mode, runs the slices it is asked for, closes.
function serve(): void {
  let opened: Awaited<ReturnType<typeof openMode>> | undefined
  let pick: ReturnType<typeof createPicker> | undefined
  const reply = (message: Reply) => process.send!(message)
  process.on('message', async (message: Request) => {
    try {
      if (message.type === 'open') {
        pick = createPicker(message.tenants)
        opened = await openMode(message.name, message.urls, message.size)
        reply({ type: 'opened', note: opened.note, runs: opened.mode !== undefined })
      } else if (message.type === 'slice') {
        const workload = WORKLOADS.find((candidate) => candidate.name === message.workload)
        if (!opened?.mode || !pick || !workload) throw new Error(`cannot run ${message.workload}: the mode is not open`)
        const profiler = message.profile ? await startProfiler() : undefined
        const before = process.cpuUsage()
        const sample = await runSlice(opened.mode, workload, pick, message.concurrency, message.durationMs)
        const used = process.cpuUsage(before)
        const js = profiler && summarizeProfile(await profiler.stop(), sample.operations)
        reply({ type: 'sample', sample: { ...sample, clientCpuMicroseconds: used.user + used.system }, js })
      } else {
        await opened?.close()
        reply({ type: 'closed' })
        process.exit(0)
      }
    } catch (error) {
      reply({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) })
    }
  })
}

// V8's sampling profiler in this process, every 200 µs: a shorter interval costs the measured process more.
async function startProfiler(): Promise<{ stop(): Promise<CpuProfile> }> {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 200 })
  await session.post('Profiler.start')
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop')
      session.disconnect()
      return profile as CpuProfile
    },
  }
}

if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) serve()
