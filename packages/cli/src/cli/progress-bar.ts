/** What a long command reports as it goes. */
export interface ProgressStep {
  label: string
  index: number
  total: number
  detail: string
}

/**
 * @internal A one-line progress bar on a terminal (stderr), redrawn in
 * place; nothing when stderr is not a terminal (CI logs, pipes), where the
 * command's summary or JSON says what happened.
 */
export function progressBar(write: (text: string) => void, tty: boolean): { update(step: ProgressStep): void; done(): void } {
  if (!tty) return { update: () => undefined, done: () => undefined }
  let drawn = false
  return {
    update({ label, index, total, detail }) {
      const width = 24
      const filled = Math.round((Math.min(index, total) / Math.max(1, total)) * width)
      write(`\r\x1b[2K[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${index}/${total} ${label} ${detail}`)
      drawn = true
    },
    done() {
      if (drawn) write('\r\x1b[2K')
      drawn = false
    },
  }
}
