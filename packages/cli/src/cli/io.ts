/** @internal Where the CLI writes and what it reads: process.* in the bin, fakes nowhere (tests spawn the real bin). */
export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: Readonly<Record<string, string | undefined>>
  /** Whether stderr is a terminal: progress bars are drawn there. */
  stderrIsTTY?: boolean
  /** Whether stdout is a terminal (live views redraw there). */
  isTTY?: boolean
  /** Aborted on Ctrl+C, for commands that run until then. */
  signal?: AbortSignal
}
