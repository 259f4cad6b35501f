-- tenantscope 0008: the journal of tenant moves (@tenantscope/lifecycle's
-- moveTenant). One row per tenant: where it was, where it goes, and how far
-- the move came, so that an interrupted move is completed by running it
-- again, and the old copy is erased once its grace period is over.
-- Idempotent: safe to run again.

CREATE TABLE IF NOT EXISTS tenantscope.tenant_moves (
  tenant_id    text PRIMARY KEY,
  -- The directory entries (JSON of @tenantscope/router's TenantEntry) before and after.
  source       jsonb NOT NULL,
  destination  jsonb NOT NULL,
  -- frozen: writes stopped, copying; switched: the directory points at the
  -- destination, the source waits for erase_after; finished: the source was erased.
  phase        text NOT NULL CHECK (phase IN ('frozen', 'switched', 'finished')),
  started_at   timestamptz NOT NULL DEFAULT now(),
  switched_at  timestamptz,
  erase_after  timestamptz,
  finished_at  timestamptz,
  receipt      jsonb
);

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tenantscope_maintenance') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON tenantscope.tenant_moves TO tenantscope_maintenance;
  END IF;
END
$$;
