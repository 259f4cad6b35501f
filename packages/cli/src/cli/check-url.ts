import { UsageError } from './usage-error.js'

/** @internal pg only notices a malformed URL deep inside connect(); say so plainly, without repeating it. */
export function checkUrl(url: string): void {
  if (!/^postgres(ql)?:\/\//i.test(url)) throw new UsageError('the database URL must start with postgres:// or postgresql://')
  try {
    new URL(url)
  } catch {
    throw new UsageError('the database URL is not a valid URL')
  }
}
