import type { CellResult } from './report.js'

const COLORS: Record<string, string> = {
  tenantscope: '#2563eb',
  'tenantscope-unnamed': '#7c3aed',
  drizzle: '#0891b2',
  naive: '#dc2626',
  session: '#d97706',
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/**
 * Throughput of every mode as a ratio of raw pg's, measured in the same run:
 * one panel per network and concurrency, one group of bars per workload.
 * Dashed lines mark the read targets (0.95 through the proxy, 0.85 on loopback).
 */
export function renderChart(cells: readonly CellResult[], modeOrder: readonly string[], labels: Record<string, string>): string {
  const panels = [...new Set(cells.map((cell) => `${cell.network}|${cell.concurrency}`))]
  const workloads = [...new Set(cells.map((cell) => cell.workload))]
  const modes = modeOrder.filter((mode) => mode !== 'raw' && cells.some((cell) => cell.mode === mode))
  const panelWidth = 460
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
    `<text x="10" y="20" font-size="14" font-weight="bold">Throughput relative to raw pg (same run, same workload; 1.0 = raw)</text>`,
  )
  const maxRatio = Math.max(1.1, ...cells.filter((cell) => cell.mode !== 'raw').map((cell) => cell.ratio))
  panels.forEach((panel, index) => {
    const [network, concurrency] = panel.split('|') as [string, string]
    const x0 = 10 + (index % columns) * panelWidth
    const y0 = 34 + Math.floor(index / columns) * (panelHeight + 20)
    const plotLeft = x0 + 34
    const plotTop = y0 + 22
    const plotWidth = panelWidth - 50
    const plotHeight = panelHeight - 60
    const y = (ratio: number) => plotTop + plotHeight - (ratio / maxRatio) * plotHeight
    const target = network === 'proxy' ? 0.95 : 0.85
    out.push(
      `<text x="${x0}" y="${y0 + 12}" font-size="12" font-weight="bold">${escape(network === 'proxy' ? 'through the latency proxy' : 'loopback')}, concurrency ${concurrency}<tspan font-weight="normal" fill="#16a34a"> (dashed: read target ${target})</tspan></text>`,
    )
    for (let tick = 0; tick <= maxRatio + 1e-9; tick += 0.25) {
      out.push(
        `<line x1="${plotLeft}" x2="${plotLeft + plotWidth}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#e5e7eb"/>`,
      )
      out.push(`<text x="${plotLeft - 4}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end" fill="#6b7280">${tick.toFixed(2)}</text>`)
    }
    out.push(
      `<line x1="${plotLeft}" x2="${plotLeft + plotWidth}" y1="${y(target).toFixed(1)}" y2="${y(target).toFixed(1)}" stroke="#16a34a" stroke-dasharray="4 3"/>`,
    )
    const groupWidth = plotWidth / workloads.length
    const barWidth = Math.min(16, (groupWidth - 12) / Math.max(1, modes.length))
    workloads.forEach((workload, w) => {
      const gx = plotLeft + w * groupWidth + (groupWidth - barWidth * modes.length) / 2
      modes.forEach((mode, m) => {
        const cell = cells.find(
          (c) => c.network === network && String(c.concurrency) === concurrency && c.workload === workload && c.mode === mode,
        )
        if (!cell) return
        const top = y(cell.ratio)
        out.push(
          `<rect x="${(gx + m * barWidth).toFixed(1)}" y="${top.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(plotTop + plotHeight - top).toFixed(1)}" fill="${COLORS[mode] ?? '#6b7280'}"><title>${escape(`${labels[mode] ?? mode}, ${workload}: ${cell.ratio.toFixed(3)} × raw`)}</title></rect>`,
        )
      })
      out.push(
        `<text x="${(plotLeft + w * groupWidth + groupWidth / 2).toFixed(1)}" y="${plotTop + plotHeight + 14}" text-anchor="middle">${escape(workload)}</text>`,
      )
    })
  })
  const legendTop = height - legendHeight
  modes.forEach((mode, index) => {
    const lx = 10 + (index % 2) * 460
    const ly = legendTop + 10 + Math.floor(index / 2) * 18
    out.push(`<rect x="${lx}" y="${ly}" width="12" height="12" fill="${COLORS[mode] ?? '#6b7280'}"/>`)
    out.push(`<text x="${lx + 18}" y="${ly + 10}">${escape(labels[mode] ?? mode)}</text>`)
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
