// pnpm demo [--keep] [--port N]
// Embedded PostgreSQL (or DATABASE_URL), the shipped SQL, the application
// role, three tenants, the example API and worker, and a scripted tour.
//
// This entry stays tiny on purpose: it notices Ctrl+C while the rest loads
// (a few seconds on a cold start), when nothing has been started yet.
const early: { code?: number } = {}
const onSigint = () => (early.code = 130)
const onSigterm = () => (early.code = 143)
process.on('SIGINT', onSigint)
process.on('SIGTERM', onSigterm)

const { runDemo } = await import('./demo.js')
process.off('SIGINT', onSigint)
process.off('SIGTERM', onSigterm)
if (early.code !== undefined) process.exit(early.code)

runDemo(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`✗ demo failed: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(1)
  },
)
