/**
 * @internal The Bind and Execute of a named setter, as one buffer, byte for
 * byte what pg's serializer writes for `connection.bind({ statement: name,
 * values })` then `connection.execute({})`:
 *
 *   Bind(portal '', statement `name`, one text format code per value,
 *        the values, one result format code: text)
 *   Execute(portal '', all rows)
 *
 * Built once per setter (a tenant's setter is built once per tenant, see
 * TenantScope.resolve) and then written as it is: no serializer, one write
 * to the socket instead of two on every pool.query and pool.transaction.
 * Only for values that are all strings (what the built-in setters make);
 * anything else is left to pg's serializer (undefined).
 */
export function namedSetterMessages(name: string, values: readonly unknown[]): Buffer | undefined {
  let valueBytes = 0
  for (const value of values) {
    if (typeof value !== 'string') return undefined
    valueBytes += 4 + Buffer.byteLength(value)
  }
  const nameBytes = Buffer.byteLength(name)
  const count = values.length
  // int32 length, portal '\0', name '\0', int16 count, count × int16 format,
  // int16 count, the values, int16 1, int16 0 (text results).
  const bindLength = 4 + 1 + nameBytes + 1 + 2 + 2 * count + 2 + valueBytes + 2 + 2
  const buffer = Buffer.allocUnsafe(1 + bindLength + EXECUTE.length)
  buffer[0] = 0x42 // 'B'
  let at = buffer.writeInt32BE(bindLength, 1)
  buffer[at++] = 0
  at += buffer.write(name, at)
  buffer[at++] = 0
  at = buffer.writeInt16BE(count, at)
  for (let i = 0; i < count; i++) at = buffer.writeInt16BE(0, at)
  at = buffer.writeInt16BE(count, at)
  for (const value of values as readonly string[]) {
    const length = Buffer.byteLength(value)
    at = buffer.writeInt32BE(length, at)
    at += buffer.write(value, at)
  }
  at = buffer.writeInt16BE(1, at)
  at = buffer.writeInt16BE(0, at)
  EXECUTE.copy(buffer, at)
  return buffer
}

// Execute(portal '', rows 0: all), as pg's serializer writes it.
const EXECUTE = Buffer.from([0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0])
