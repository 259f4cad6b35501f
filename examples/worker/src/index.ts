export type { InvoiceReport } from './invoice-report.js'
export { invoiceReport } from './invoice-report.js'
export type { ReportJobData, RunningWorker, WorkerOptions } from './worker.js'
export { REPORT_QUEUE, startWorker } from './worker.js'
