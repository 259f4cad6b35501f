/**
 * How many times a statement evaluated the tenant setting, read from
 * EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON): once means an InitPlan or a single
 * index scan; more means the expression ran per row (a Filter) or per rescan
 * (an index condition under a nested loop or a SubPlan).
 */

interface PlanNode {
  'Node Type': string
  'Parent Relationship'?: string
  'Actual Rows'?: number
  'Actual Loops'?: number
  'Rows Removed by Filter'?: number
  'Rows Removed by Join Filter'?: number
  Output?: string[]
  Filter?: string
  'Join Filter'?: string
  'Index Cond'?: string
  'One-Time Filter'?: string
  Plans?: PlanNode[]
}

const READS = /current_setting\(/

export interface Evaluations {
  /** Evaluations of current_setting over the whole statement (EXPLAIN's per-loop averages, multiplied back). */
  count: number
  /** Where they happened, e.g. `Filter on Seq Scan ×400`. */
  where: string[]
}

export function countEvaluations(plan: PlanNode): Evaluations {
  const result: Evaluations = { count: 0, where: [] }
  const add = (node: PlanNode, field: string, times: number) => {
    const n = Math.round(times)
    result.count += n
    result.where.push(`${field} on ${node['Node Type']}${node['Parent Relationship'] === 'InitPlan' ? ' (InitPlan)' : ''} ×${n}`)
  }
  const visit = (node: PlanNode) => {
    const loops = node['Actual Loops'] ?? 0
    const rows = node['Actual Rows'] ?? 0
    if (node['Index Cond'] && READS.test(node['Index Cond'])) add(node, 'Index Cond', loops)
    if (node['One-Time Filter'] && READS.test(node['One-Time Filter'])) add(node, 'One-Time Filter', loops)
    if (node.Filter && READS.test(node.Filter)) add(node, 'Filter', (rows + (node['Rows Removed by Filter'] ?? 0)) * loops)
    if (node['Join Filter'] && READS.test(node['Join Filter']))
      add(node, 'Join Filter', (rows + (node['Rows Removed by Join Filter'] ?? 0)) * loops)
    // A Result node that computes the setting (an InitPlan's, or a column default on insert).
    if (node['Node Type'] === 'Result' && node.Output?.some((output) => READS.test(output))) add(node, 'Output', rows * loops)
    for (const child of node.Plans ?? []) visit(child)
  }
  visit(plan)
  return result
}

/** The plan's shape in one line: node types, outermost first, for the report. */
export function planShape(plan: PlanNode): string {
  const parts: string[] = []
  const visit = (node: PlanNode, depth: number) => {
    if (depth > 3) return
    parts.push(node['Node Type'])
    for (const child of node.Plans ?? []) visit(child, depth + 1)
  }
  visit(plan, 0)
  return parts.join(' > ')
}
