import { createApp } from './create-app.js'

const databaseUrl = process.env.DATABASE_URL
const jwtSecret = process.env.JWT_SECRET
if (!databaseUrl || !jwtSecret) {
  console.error('Set DATABASE_URL (the application role) and JWT_SECRET.')
  process.exit(2)
}
const app = await createApp({ databaseUrl, jwtSecret })
await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1')
console.log(`Listening on ${await app.getUrl()}`)
