-- tenantscope example schema: tenants, users, projects, invoices.
-- Every tenant table keys on (tenant_id, id): primary keys, unique constraints
-- and foreign keys include the tenant, so no row can reference another
-- tenant's row, and the schema is ready for Citus (distribute by tenant_id).
-- Run after the tenantscope migrations. Idempotent.

CREATE TABLE IF NOT EXISTS tenants (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS users (
  tenant_id  uuid NOT NULL REFERENCES tenants (id),
  id         uuid NOT NULL DEFAULT gen_random_uuid(),
  email      text NOT NULL,
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, email)
);

CREATE TABLE IF NOT EXISTS projects (
  tenant_id  uuid NOT NULL REFERENCES tenants (id),
  id         uuid NOT NULL DEFAULT gen_random_uuid(),
  name       text NOT NULL,
  owner_id   uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, owner_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS projects_tenant_created_idx ON projects (tenant_id, created_at DESC);

CREATE TABLE IF NOT EXISTS invoices (
  tenant_id    uuid NOT NULL REFERENCES tenants (id),
  id           uuid NOT NULL DEFAULT gen_random_uuid(),
  project_id   uuid NOT NULL,
  amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
  currency     char(3) NOT NULL DEFAULT 'EUR',
  status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sent', 'paid')),
  issued_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS invoices_tenant_project_idx ON invoices (tenant_id, project_id);

-- A tenant sees only its own row of tenants.
SELECT tenantscope.enable_tenant_rls('tenants', 'id');
SELECT tenantscope.enable_tenant_rls('users');
SELECT tenantscope.enable_tenant_rls('projects');
SELECT tenantscope.enable_tenant_rls('invoices');

GRANT SELECT ON tenants TO tenantscope_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, projects, invoices TO tenantscope_app;
