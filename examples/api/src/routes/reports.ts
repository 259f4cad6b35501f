import { getTenantId } from '@tenantscope/core'
import { readJobTenant, sendTenantJob } from '@tenantscope/core/jobs'
import { Router } from 'express'
import type PgBoss from 'pg-boss'
import { notFound } from '../http-errors.js'
import { currencyCode, pathId } from '../validate.js'

/** The queue the worker example consumes. */
export const REPORT_QUEUE = 'invoice-report'

/**
 * POST /reports enqueues an invoice report for the caller's tenant (the
 * tenant is stamped into the job by sendTenantJob); GET /reports/:id reads
 * its state and result. Job ids are global to the queue, so a report of
 * another tenant is a 404: the job's own tenant is compared, not trusted.
 */
export function reportRoutes(boss: PgBoss): Router {
  const router = Router()

  router.post('/', async (req, res) => {
    const currency = req.body?.currency
    const id = await sendTenantJob(boss, REPORT_QUEUE, currency === undefined ? {} : { currency: currencyCode(currency) }, {
      retryLimit: 2,
      retryDelay: 1,
    })
    res.status(202).json({ id, state: 'created' })
  })

  router.get('/:id', async (req, res) => {
    const job = await boss.getJobById(REPORT_QUEUE, pathId(req.params.id, 'report'))
    if (!job || !sameTenant(job.data)) throw notFound('report')
    res.json({
      id: job.id,
      state: job.state,
      createdOn: job.createdOn,
      completedOn: job.completedOn,
      report: job.state === 'completed' ? job.output : null,
    })
  })

  return router
}

function sameTenant(data: unknown): boolean {
  try {
    return readJobTenant(data) === getTenantId()
  } catch {
    return false
  }
}
