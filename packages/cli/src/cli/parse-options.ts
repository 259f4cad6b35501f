import { type ParseArgsConfig, parseArgs } from 'node:util'
import { safeMessage } from './safe-message.js'
import { UsageError } from './usage-error.js'

type Options = NonNullable<ParseArgsConfig['options']>
// Spelled out so the emitted declaration can name it: node:util does not export the types parseArgs returns.
type Values<T extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: false }>
>['values']

/** @internal A command's `--options` (no positionals); a bad one is a UsageError. */
export function parseOptions<const T extends Options>(args: string[], options: T): Values<T> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values
  } catch (error) {
    // parseArgs names the bad option; it never repeats a value.
    throw new UsageError(safeMessage(error))
  }
}
