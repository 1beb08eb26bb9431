#!/usr/bin/env node
// The `shieldwall` command. The CLI is TypeScript run by Node's type stripping (Node >= 22.18); on an older
// Node (Debian's is 20) it re-runs itself on the Node 24 that the `node` package installs beside it.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'

const [major, minor] = process.versions.node.split('.').map(Number)
const canStripTypes = major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18)

if (canStripTypes) {
  await import('./main.ts')
} else {
  let nodeBin
  try {
    nodeBin = createRequire(import.meta.url).resolve('node/bin/node')
  } catch {
    console.error(
      `shieldwall needs Node.js >= 22.18 (this is ${process.version}); install a newer Node or run npm ci`,
    )
    process.exit(1)
  }
  const child = spawn(nodeBin, [new URL('./main.ts', import.meta.url).pathname, ...process.argv.slice(2)], {
    stdio: 'inherit',
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)))
}
