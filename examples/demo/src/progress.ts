const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

const color = (code: number) => (text: string) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[${code}m${text}\x1b[0m` : text)
export const green = color(32)
export const red = color(31)
export const dim = color(2)
export const bold = color(1)

/**
 * Runs `task` while showing what is happening: a spinner with the elapsed
 * time on a terminal, a start line and periodic "still ..." lines otherwise
 * (CI logs, pipes). Ends with ✓ and the duration, or ✗.
 */
export async function step<T>(label: string, task: () => Promise<T>): Promise<T> {
  const started = Date.now()
  const seconds = () => ((Date.now() - started) / 1000).toFixed(1)
  const tty = Boolean(process.stdout.isTTY)
  let frame = 0
  const timer = tty
    ? setInterval(() => process.stdout.write(`\r${FRAMES[frame++ % FRAMES.length]} ${label} ${dim(`${seconds()}s`)}`), 100)
    : setInterval(() => console.log(`  … still ${label.toLowerCase()} (${seconds()}s)`), 3000)
  if (!tty) console.log(`… ${label}`)
  try {
    const result = await task()
    if (tty) process.stdout.write('\r\x1b[2K')
    console.log(`${green('✓')} ${label} ${dim(`${seconds()}s`)}`)
    return result
  } catch (error) {
    if (tty) process.stdout.write('\r\x1b[2K')
    console.log(`${red('✗')} ${label} ${dim(`${seconds()}s`)}`)
    throw error
  } finally {
    clearInterval(timer)
  }
}
