import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { join } from 'node:path'

export const ROOT = join(import.meta.dirname, '..', '..')
export const CLI = join(ROOT, 'node', 'cli', 'main.ts')

export interface RunningProcess {
  child: ChildProcess
  ready: { peerId: string; api: string; addresses: string[] }
  stderr: () => string
}

/**
 * Starts `shieldwall start` as its own OS process (as an operator would) and waits for its `ready` line.
 * Only this PID is ever signalled.
 */
export async function startProcess(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  command = [process.execPath, CLI, 'start'],
): Promise<RunningProcess> {
  // Its own process group, so a wrapper such as `npm start` can be stopped together with the node it runs.
  const child = spawn(command[0], [...command.slice(1), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let err = ''
  child.stderr?.on('data', (d) => (err += d))
  const lines = createInterface({ input: child.stdout! })
  const ready = await new Promise<RunningProcess['ready']>((resolve, reject) => {
    // only ends a broken start; a busy machine may take long to load and start a node
    const timer = setTimeout(() => reject(new Error(`no ready line within 60 s; stderr:\n${err}`)), 60_000)
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line)
        if (msg.event === 'ready') {
          clearTimeout(timer)
          resolve(msg)
        }
      } catch {
        // not ours
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before ready; stderr:\n${err}`))
    })
  })
  return { child, ready, stderr: () => err }
}

export function stopProcess(
  p: { child: ChildProcess },
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<number | null> {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve(p.child.exitCode)
    p.child.once('exit', (code) => resolve(code))
    try {
      process.kill(-(p.child.pid as number), signal)
    } catch {
      p.child.kill(signal)
    }
  })
}

export function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}
