/** Minimal server-side SVG line charts: the report must open offline, with no script and no CDN. */
export interface Series {
  name: string
  points: [number, number][]
  color: string
  width?: number
  opacity?: number
  /** draw as a step function (CDFs, cumulative counts) */
  step?: boolean
}

export interface ChartInit {
  title: string
  xLabel: string
  yLabel: string
  series: Series[]
  yMin?: number
  yMax?: number
  markers?: { x: number; label: string }[]
  /** show a legend (off for charts with one line per node) */
  legend?: boolean
}

const W = 720
const H = 300
const M = { left: 60, right: 20, top: 30, bottom: 45 }

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function niceMax(v: number): number {
  if (v <= 0) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

function fmt(v: number): string {
  if (Math.abs(v) >= 1000) return `${Math.round(v / 100) / 10}k`
  return String(Math.round(v * 100) / 100)
}

export function lineChart(c: ChartInit): string {
  const xs = c.series.flatMap((s) => s.points.map((p) => p[0]))
  const ys = c.series.flatMap((s) => s.points.map((p) => p[1]))
  const xMax = niceMax(Math.max(0, ...xs, ...(c.markers ?? []).map((m) => m.x)))
  const yMin = c.yMin ?? Math.min(0, ...ys)
  const yMax = c.yMax ?? niceMax(Math.max(0, ...ys))
  const pw = W - M.left - M.right
  const ph = H - M.top - M.bottom
  const sx = (x: number) => M.left + (x / xMax) * pw
  const sy = (y: number) => M.top + ph - ((y - yMin) / (yMax - yMin || 1)) * ph
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(c.title)}">`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="600">${escapeHtml(c.title)}</text>`,
  ]
  for (let i = 0; i <= 5; i++) {
    const yv = yMin + ((yMax - yMin) * i) / 5
    const y = sy(yv)
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`)
    out.push(`<text x="${M.left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${fmt(yv)}</text>`)
    const xv = (xMax * i) / 5
    out.push(
      `<text x="${sx(xv)}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="11">${fmt(xv)}</text>`,
    )
  }
  out.push(
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}" stroke="#333"/>`,
    `<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + ph}" y2="${M.top + ph}" stroke="#333"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 8}" text-anchor="middle" font-size="12">${escapeHtml(c.xLabel)}</text>`,
    `<text x="14" y="${M.top + ph / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${M.top + ph / 2})">${escapeHtml(c.yLabel)}</text>`,
  )
  for (const m of c.markers ?? []) {
    const x = sx(m.x)
    out.push(
      `<line x1="${x}" x2="${x}" y1="${M.top}" y2="${M.top + ph}" stroke="#999" stroke-dasharray="4 3"/>`,
      `<text x="${x + 3}" y="${M.top + 10}" font-size="10" fill="#666">${escapeHtml(m.label)}</text>`,
    )
  }
  for (const s of c.series) {
    if (s.points.length === 0) continue
    const pts: string[] = []
    let prev: [number, number] | undefined
    for (const p of s.points) {
      if (s.step === true && prev !== undefined) pts.push(`${sx(p[0]).toFixed(1)},${sy(prev[1]).toFixed(1)}`)
      pts.push(`${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`)
      prev = p
    }
    out.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="${s.width ?? 2}" stroke-opacity="${s.opacity ?? 1}" points="${pts.join(' ')}"><title>${escapeHtml(s.name)}</title></polyline>`,
    )
  }
  if (c.legend === true) {
    c.series.forEach((s, i) => {
      const x = M.left + 10 + i * 140
      out.push(
        `<rect x="${x}" y="${M.top + 4}" width="12" height="4" fill="${s.color}"/>`,
        `<text x="${x + 16}" y="${M.top + 9}" font-size="11">${escapeHtml(s.name)}</text>`,
      )
    })
  }
  out.push('</svg>')
  return out.join('\n')
}
