/** A big-endian 16-bit field of the PostgreSQL protocol (-1 as 0xffff, two's complement). */
export function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2)
  buffer.writeUInt16BE(value & 0xffff)
  return buffer
}

/** A big-endian 32-bit field of the PostgreSQL protocol (-1 as 0xffffffff, two's complement). */
export function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4)
  buffer.writeUInt32BE(value >>> 0)
  return buffer
}
