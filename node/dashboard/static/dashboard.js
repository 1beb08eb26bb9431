// The node's dashboard: plain browser JavaScript, no build step. Everything it shows comes from the same API
// an admin scripts against, with a token kept in this tab's sessionStorage only.
const $ = (id) => document.getElementById(id)
const FEED_ROWS = 200
let token =
  new URLSearchParams(location.hash.slice(1)).get('token') ?? sessionStorage.getItem('shieldwall-token')

async function api(path) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}` } })
  if (!res.ok) {
    const body = await res.json().catch(() => ({}))
    const err = new Error(body?.error?.message ?? `HTTP ${res.status}`)
    err.status = res.status
    throw err
  }
  return res.json()
}

function text(el, value) {
  el.textContent = value === undefined || value === null ? '–' : String(value)
}

function svg(tag, attrs, children = []) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v))
  for (const c of children) el.append(c)
  return el
}

/** One or two series as lines with min/max labels; `series` = [{points: [[x, y]...], label}] */
function lineChart(el, series, emptyText) {
  el.replaceChildren()
  const all = series.flatMap((s) => s.points)
  if (all.length === 0) {
    el.append(svg('text', { x: 10, y: 80 }, [emptyText]))
    return
  }
  const W = 600,
    H = 160,
    pad = 28
  const xs = all.map((p) => p[0])
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)]
  series.forEach((s, i) => {
    const ys = s.points.map((p) => p[1])
    const [y0, y1] = [Math.min(0, ...ys), Math.max(1e-9, ...ys)]
    const sx = (x) => pad + ((x - x0) / Math.max(1e-9, x1 - x0)) * (W - 2 * pad)
    const sy = (y) => H - pad - ((y - y0) / Math.max(1e-9, y1 - y0)) * (H - 2 * pad)
    const d = s.points
      .map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`)
      .join(' ')
    el.append(svg('path', { d, class: i === 0 ? 'line' : 'line second' }))
    el.append(svg('text', { x: i === 0 ? 4 : W - 120, y: 12 }, [`${s.label}: max ${round(y1)}`]))
  })
}

const round = (n) => (Math.abs(n) >= 100 ? Math.round(n) : Math.round(n * 1000) / 1000)

let statusSoon = null
/** After stream events: a burst of blocks is one status refresh a second later, not one per block. */
function refreshStatusSoon() {
  if (statusSoon !== null) return
  statusSoon = setTimeout(() => {
    statusSoon = null
    void refreshStatus().catch(() => {})
  }, 1000)
}

async function refreshStatus() {
  const s = await api('/api/defense/network/status')
  text($('peer-id'), s.peerId)
  text($('node-name'), s.nodeName ?? '')
  text($('count-peers'), s.counts?.peers)
  text($('count-blocklist'), s.blocklist?.size ?? s.counts?.blocklist)
  text($('count-decisions'), s.counts?.decisionsStored)
  text($('count-alerts'), `${s.counts?.alertsAccepted ?? 0} / ${s.counts?.alertsPublished ?? 0}`)
  text($('ml-backend'), s.learning?.backend ?? '–')
  const history = s.blocklist?.history ?? []
  lineChart($('chart-blocklist'), [{ label: 'entries', points: history }], 'no history yet')
}

async function refreshPeers() {
  let peers
  try {
    peers = (await api('/api/defense/network/peers')).items ?? []
  } catch (err) {
    if (err.status === 404) return
    throw err
  }
  const rows = peers.map((p) => {
    const tr = document.createElement('tr')
    for (const v of [
      p.peerId.slice(0, 16) + '…',
      round(p.trust ?? 0),
      p.pinned ?? '',
      round(p.gossipScore ?? 0),
    ]) {
      const td = document.createElement('td')
      td.textContent = String(v)
      tr.append(td)
    }
    tr.title = p.peerId
    return tr
  })
  $('peers').tBodies[0].replaceChildren(...rows)
}

async function refreshRounds() {
  let f
  try {
    f = await api('/api/ml/federation/status')
  } catch (err) {
    if (err.status === 404)
      return void text($('rounds-note'), 'federated learning is not enabled on this node')
    throw err
  }
  text($('count-epsilon'), f.epsilon ? `${round(f.epsilon.spent)} / ${round(f.epsilon.budget)}` : '–')
  const rounds = f.history ?? []
  lineChart(
    $('chart-rounds'),
    [
      {
        label: 'accuracy',
        points: rounds.filter((r) => r.accuracy != null).map((r) => [r.round, r.accuracy]),
      },
      { label: 'epsilon', points: rounds.filter((r) => r.epsilon != null).map((r) => [r.round, r.epsilon]) },
    ],
    'no rounds yet',
  )
  text($('rounds-note'), f.contributing === false ? 'not contributing (opted out or budget spent)' : '')
}

function addFeedRow(kind, entry) {
  const tr = document.createElement('tr')
  tr.className = kind
  tr.dataset.value = entry.value
  const cells = [
    new Date().toLocaleTimeString(),
    kind,
    entry.value,
    entry.scenario,
    entry.origin,
    entry.score === undefined ? '' : round(entry.score),
    entry.expiresAt ? new Date(entry.expiresAt).toLocaleString() : '',
  ]
  for (const c of cells) {
    const td = document.createElement('td')
    td.textContent = String(c ?? '')
    tr.append(td)
  }
  const body = $('feed').tBodies[0]
  body.prepend(tr)
  while (body.rows.length > FEED_ROWS) body.deleteRow(body.rows.length - 1)
}

/** Server-sent events over fetch (EventSource cannot send an Authorization header). */
async function follow() {
  for (;;) {
    try {
      const res = await fetch('/api/defense/decisions/stream', {
        headers: { authorization: `Bearer ${token}` },
      })
      if (!res.ok || res.body === null) throw new Error(`stream: HTTP ${res.status}`)
      $('connection').textContent = 'live'
      $('connection').classList.add('live')
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += value
        let cut
        while ((cut = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, cut)
          buffer = buffer.slice(cut + 2)
          let event = 'message'
          const data = []
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim()
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart())
          }
          if ((event === 'added' || event === 'removed') && data.length > 0) {
            const payload = JSON.parse(data.join('\n'))
            addFeedRow(event, payload.entry ?? payload)
            refreshStatusSoon()
          }
        }
      }
    } catch (err) {
      console.warn('decision stream interrupted:', err.message)
    }
    $('connection').textContent = 'reconnecting'
    $('connection').classList.remove('live')
    await new Promise((r) => setTimeout(r, 2000))
  }
}

async function open() {
  try {
    await refreshStatus()
  } catch (err) {
    $('login').hidden = false
    $('main').hidden = true
    text($('login-error'), token ? `cannot read the node: ${err.message}` : '')
    return
  }
  sessionStorage.setItem('shieldwall-token', token)
  $('login').hidden = true
  $('main').hidden = false
  const tick = () =>
    Promise.all([refreshStatus(), refreshPeers(), refreshRounds()]).catch((err) => console.warn(err.message))
  await tick()
  setInterval(tick, 5000)
  void follow()
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault()
  token = $('token').value.trim()
  void open()
})
if (token) void open()
else $('login').hidden = false
