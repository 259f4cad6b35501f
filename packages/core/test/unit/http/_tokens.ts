import { SignJWT } from 'jose'

export const SECRET = 'a-test-secret-that-is-long-enough-for-hs256'
export const A = '11111111-1111-4111-8111-111111111111'
export const B = '22222222-2222-4222-8222-222222222222'

export function sign(
  claims: Record<string, unknown>,
  options: { secret?: string; expiresIn?: string | number; issuer?: string } = {},
): Promise<string> {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt()
  jwt = jwt.setExpirationTime(options.expiresIn ?? '5m')
  if (options.issuer) jwt = jwt.setIssuer(options.issuer)
  return jwt.sign(new TextEncoder().encode(options.secret ?? SECRET))
}
