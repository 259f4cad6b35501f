export { startWorker, REPORT_QUEUE } from './worker.js'
export type { WorkerOptions, RunningWorker, ReportJobData } from './worker.js'
export { invoiceReport } from './invoice-report.js'
export type { InvoiceReport } from './invoice-report.js'
