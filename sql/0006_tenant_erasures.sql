-- tenantscope: receipts of tenant erasures (@tenantscope/lifecycle, `tenantscope
-- tenant erase`): what was erased, when, and that a role bypassing row level
-- security then found nothing left. Kept by the maintenance role; the app
-- role has no access. Idempotent.

CREATE TABLE IF NOT EXISTS tenantscope.tenant_erasures (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   text        NOT NULL,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  tables      jsonb       NOT NULL,
  rows        bigint      NOT NULL,
  verified    boolean     NOT NULL,
  erased_by   name        NOT NULL DEFAULT current_user
);
REVOKE ALL ON tenantscope.tenant_erasures FROM PUBLIC;
GRANT SELECT, INSERT ON tenantscope.tenant_erasures TO tenantscope_maintenance;
