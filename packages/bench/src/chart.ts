import type { Cell } from './cells.js'

const COLORS: Record<string, string> = {
  floor: '#16a34a',
  'floor-again': '#86efac',
  tenantscope: '#2563eb',
  'tenantscope-prepared': '#1e3a8a',
  'tenantscope-unnamed': '#7c3aed',
  'drizzle-raw': '#67e8f9',
  drizzle: '#0891b2',
  naive: '#dc2626',
  session: '#d97706',
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/**
 * Throughput of every mode as a ratio of raw pg's: the bar is the median over
 * runs, the whisker the lowest to the highest run. One panel per network and
 * concurrency, one group of bars per workload; the line at 1.0 is raw pg.
 */
export function renderChart(cells: readonly Cell[], modeOrder: readonly string[], labels: Record<string, string>, runs: number): string {
  const panels = [...new Set(cells.map((cell) => `${cell.network}|${cell.concurrency}`))]
  const workloads = [...new Set(cells.map((cell) => cell.workload))]
  const modes = modeOrder.filter((mode) => mode !== 'raw' && cells.some((cell) => cell.mode === mode))
  const panelWidth = 520
  const panelHeight = 250
  const columns = 2
  const rows = Math.ceil(panels.length / columns)
  const legendHeight = 24 + 18 * Math.ceil(modes.length / 2)
  const width = panelWidth * columns + 20
  const height = rows * (panelHeight + 20) + legendHeight + 40
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
  )
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`)
  out.push(
    `<text x="10" y="20" font-size="14" font-weight="bold">Throughput relative to raw pg: median of ${runs} run${runs === 1 ? '' : 's'}, whiskers from the lowest to the highest run</text>`,
  )
  const others = cells.filter((cell) => cell.mode !== 'raw')
  const maxRatio = Math.max(1.1, ...others.map((cell) => cell.ratio.max).filter(Number.isFinite))
  panels.forEach((panel, index) => {
    const [network, concurrency] = panel.split('|') as [string, string]
    const x0 = 10 + (index % columns) * panelWidth
    const y0 = 34 + Math.floor(index / columns) * (panelHeight + 20)
    const plotLeft = x0 + 34
    const plotTop = y0 + 22
    const plotWidth = panelWidth - 50
    const plotHeight = panelHeight - 60
    const y = (ratio: number) => plotTop + plotHeight - (ratio / maxRatio) * plotHeight
    out.push(
      `<text x="${x0}" y="${y0 + 12}" font-size="12" font-weight="bold">${escape(network === 'proxy' ? 'through the latency proxy' : 'loopback')}, concurrency ${concurrency}</text>`,
    )
    for (let tick = 0; tick <= maxRatio + 1e-9; tick += 0.25) {
      out.push(
        `<line x1="${plotLeft}" x2="${plotLeft + plotWidth}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="${tick === 1 ? '#9ca3af' : '#e5e7eb'}"/>`,
      )
      out.push(`<text x="${plotLeft - 4}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end" fill="#6b7280">${tick.toFixed(2)}</text>`)
    }
    const groupWidth = plotWidth / workloads.length
    const barWidth = Math.min(14, (groupWidth - 10) / Math.max(1, modes.length))
    workloads.forEach((workload, w) => {
      const gx = plotLeft + w * groupWidth + (groupWidth - barWidth * modes.length) / 2
      modes.forEach((mode, m) => {
        const cell = cells.find(
          (c) => c.network === network && String(c.concurrency) === concurrency && c.workload === workload && c.mode === mode,
        )
        if (!cell || !Number.isFinite(cell.ratio.median)) return
        const top = y(cell.ratio.median)
        const x = gx + m * barWidth
        const title = `${labels[mode] ?? mode}, ${workload}: ${cell.ratio.median.toFixed(3)} × raw [${cell.ratio.min.toFixed(3)}–${cell.ratio.max.toFixed(3)}]`
        out.push(
          `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(plotTop + plotHeight - top).toFixed(1)}" fill="${COLORS[mode] ?? '#6b7280'}"><title>${escape(title)}</title></rect>`,
        )
        const cx = (x + (barWidth - 2) / 2).toFixed(1)
        out.push(`<line x1="${cx}" x2="${cx}" y1="${y(cell.ratio.min).toFixed(1)}" y2="${y(cell.ratio.max).toFixed(1)}" stroke="#111827"/>`)
      })
      out.push(
        `<text x="${(plotLeft + w * groupWidth + groupWidth / 2).toFixed(1)}" y="${plotTop + plotHeight + 14}" text-anchor="middle">${escape(workload)}</text>`,
      )
    })
  })
  const legendTop = height - legendHeight
  modes.forEach((mode, index) => {
    const lx = 10 + (index % 2) * 520
    const ly = legendTop + 10 + Math.floor(index / 2) * 18
    out.push(`<rect x="${lx}" y="${ly}" width="12" height="12" fill="${COLORS[mode] ?? '#6b7280'}"/>`)
    out.push(`<text x="${lx + 18}" y="${ly + 10}">${escape(labels[mode] ?? mode)}</text>`)
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
