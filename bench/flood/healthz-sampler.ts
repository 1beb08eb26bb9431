/**
 * `node bench/flood/healthz-sampler.ts URL INTERVAL_MS`: asks URL every INTERVAL_MS and prints one JSON line per
 * answer (`{"ms": latency, "ok": bool}`), each request timed on its own so a stalled server shows as the wait it
 * caused. A process of its own with nothing else to do, so its timings are the server's, not its own load's.
 * Prints `ready` first; when its stdin closes it stops asking and exits once every request has been answered
 * or has timed out (30 s).
 */
const [url, interval = '20'] = process.argv.slice(2)
let pending = 0
let stopping = false
const timer = setInterval(() => {
  const sent = performance.now()
  pending++
  fetch(url, { signal: AbortSignal.timeout(30_000) })
    .then(async (res) => {
      await res.arrayBuffer()
      return res.ok
    })
    .catch(() => false)
    .then((ok) => {
      process.stdout.write(JSON.stringify({ ms: performance.now() - sent, ok }) + '\n')
      if (--pending === 0 && stopping) process.exit(0)
    })
}, Number(interval))
process.stdout.write('ready\n')
process.stdin.resume()
process.stdin.on('end', () => {
  clearInterval(timer)
  stopping = true
  if (pending === 0) process.exit(0)
})
