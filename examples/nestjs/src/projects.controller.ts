import { BadRequestException, Body, Controller, Get, HttpCode, Inject, NotFoundException, Param, ParseUUIDPipe, Post } from '@nestjs/common'
import type { TenantPool } from '@tenantscope/core'
import { TENANT_POOL } from '@tenantscope/nestjs'

interface Project {
  id: string
  tenant_id: string
  name: string
}

// No query names a tenant: the middleware put the request's tenant into withTenant, and
// PostgreSQL's policies filter every row (the pool connects as a role RLS applies to).
@Controller('projects')
export class ProjectsController {
  constructor(@Inject(TENANT_POOL) private readonly pool: TenantPool) {}

  @Get()
  async list(): Promise<Project[]> {
    return (await this.pool.query<Project>('SELECT id, tenant_id, name FROM projects ORDER BY created_at, name')).rows
  }

  @Get(':id')
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<Project> {
    const { rows } = await this.pool.query<Project>('SELECT id, tenant_id, name FROM projects WHERE id = $1', [id])
    if (!rows[0]) throw new NotFoundException() // another tenant's project does not exist for this one
    return rows[0]
  }

  @Post()
  @HttpCode(201)
  async create(@Body() body: { name?: unknown }): Promise<Project> {
    if (typeof body?.name !== 'string' || body.name.length === 0 || body.name.length > 200) {
      throw new BadRequestException('name must be a non-empty string of at most 200 characters')
    }
    const name = body.name
    // tenant_id comes from the column default (the transaction-local tenant setting).
    return this.pool.transaction(async (tx) => {
      const { rows } = await tx.query<Project>('INSERT INTO projects (name) VALUES ($1) RETURNING id, tenant_id, name', [name])
      return rows[0]!
    })
  }
}
