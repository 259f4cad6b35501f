/** The setting the tenant pool writes the tenant to, and policies read it from, unless you choose another. */
export const DEFAULT_TENANT_SETTING = 'app.current_tenant'

export interface TenantExpressionOptions {
  /**
   * The setting the tenant is read from: the `setting` you gave `createTenantPool`.
   * @default 'app.current_tenant'
   * @example { setting: 'myapp.tenant' }
   */
  setting?: string
  /**
   * The tenant column's type, as PostgreSQL prints it (`format_type`): the
   * setting is cast to it, so the column stays bare and its index applies.
   * `text` needs no cast. @default 'uuid'
   * @example { columnType: 'bigint' }
   */
  columnType?: string
}

/**
 * The current tenant as SQL, read back from the setting as the tenant
 * column's type, NULL when no tenant is set (never an error):
 * `NULLIF(current_setting('app.current_tenant', true), '')::uuid`.
 * NULLIF matters: once a pooled connection has carried a transaction-local
 * setting, it reads '' afterwards, and `''::uuid` would fail every query.
 *
 * The one spelling of the tenant expression: the Drizzle helpers build their
 * policies and defaults with it, the doctor its fixes, and
 * `tenantscope.tenant_expression(type, setting)` in the shipped SQL writes the
 * same text (a test holds the two together). The setting is written out
 * rather than read through `tenantscope.current_tenant_id()`: PostgreSQL
 * re-parses a SQL function's body each time it inlines it while planning.
 *
 * The setting is always quoted as a literal. The type is spliced in as it
 * is, so it must come from your schema or the catalog, never from input; a
 * type that could end the expression (a quote, `;`, a comment) throws a TypeError.
 * @example tenantExpression({ setting: 'myapp.tenant', columnType: 'bigint' })
 * // NULLIF(current_setting('myapp.tenant', true), '')::bigint
 */
export function tenantExpression(options: TenantExpressionOptions = {}): string {
  const setting = options.setting ?? DEFAULT_TENANT_SETTING
  const type = options.columnType ?? 'uuid'
  if (typeof setting !== 'string' || setting.length === 0) throw new TypeError('tenantExpression: setting must be a non-empty string')
  if (typeof type !== 'string' || !/^[A-Za-z_"][\w$ ."[\](),]*$/.test(type) || /--|\/\*/.test(type)) {
    throw new TypeError('tenantExpression: columnType must be a type name such as uuid, bigint or text')
  }
  const read = `NULLIF(current_setting('${setting.replaceAll("'", "''")}', true), '')`
  return type === 'text' ? read : `${read}::${type}`
}

/**
 * The tenant policy's condition: `<column> = (SELECT <tenant expression>)`.
 * The column is bare (no cast) so a tenant-first index serves it; the
 * sub-select makes the setting an InitPlan, read once per statement instead
 * of once per row. `column` is an SQL identifier, already quoted if it needs to be.
 * @example tenantPredicate('tenant_id', { setting: 'myapp.tenant' })
 * // tenant_id = (SELECT NULLIF(current_setting('myapp.tenant', true), '')::uuid)
 */
export function tenantPredicate(column: string, options: TenantExpressionOptions = {}): string {
  return `${column} = (SELECT ${tenantExpression(options)})`
}
