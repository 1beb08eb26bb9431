import { pick, randomInt, sample, shuffled } from '../random.ts'
import type { TrafficSpec } from '../scenarios/scenario-spec.ts'
import { nginxLine, SCANNER_UA, sshdLine } from './log-lines.ts'
import type { ScheduledLine, TrafficContext } from './schedule.ts'

const LOGINS = ['root', 'admin', 'ubuntu', 'test', 'oracle', 'postgres', 'git', 'user', 'pi', 'guest']
const PROBES = [
  '/.env',
  '/.git/config',
  '/wp-login.php',
  '/phpmyadmin/',
  '/admin/config.php',
  '/backup.zip',
  '/.aws/credentials',
  '/server-status',
  '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php',
  '/cgi-bin/luci',
  '/boaform/admin/formLogin',
  '/actuator/env',
  '/HNAP1/',
  '/owa/auth/logon.aspx',
  '/solr/admin/info/system',
  '/.DS_Store',
  '/config.json',
  '/api/v1/pods',
  '/console/',
  '/manager/html',
  '/setup.cgi',
  '/xmlrpc.php',
  '/shell.php',
  '/db.sql',
]

type Spec<K extends TrafficSpec['kind']> = Extract<TrafficSpec, { kind: K }>

/** `k` honest members (of one partition side) that are up for the whole window, so each can detect */
function targetsFor(
  ctx: TrafficContext,
  k: number,
  group: number | undefined,
  window: readonly [number, number],
): number[] {
  const [from, to] = [window[0] * ctx.durationMs, window[1] * ctx.durationMs + 5000]
  const pool = ctx.honest.filter(
    (m) => (group === undefined || ctx.groupOf?.(m) === group) && (ctx.upDuring?.(m, from, to) ?? true),
  )
  return sample(ctx.rand, pool, k)
}

function within(ctx: TrafficContext, w: readonly [number, number]): number {
  return (w[0] + ctx.rand() * (w[1] - w[0])) * ctx.durationMs
}

/** Password guessing fast enough for ssh-bf on each node it hits. */
export function sshBruteforce(spec: Spec<'ssh-bruteforce'>, ctx: TrafficContext): ScheduledLine[] {
  const out: ScheduledLine[] = []
  for (let a = 0; a < spec.attackers; a++) {
    const ip = ctx.attackers.next()
    const targets = targetsFor(ctx, spec.targetsPerAttacker, spec.group, spec.window)
    ctx.truth.attackers.push({
      ip,
      kind: spec.kind,
      targets,
      ...(spec.phase !== undefined ? { phase: spec.phase } : {}),
    })
    let t = within(ctx, spec.window)
    for (const member of targets) {
      const pid = 1000 + randomInt(ctx.rand, 60_000)
      for (let i = 0; i < spec.attemptsPerTarget; i++) {
        const user = pick(ctx.rand, LOGINS)
        const port = 30_000 + randomInt(ctx.rand, 30_000)
        const kind = user === 'root' ? 'failed-password' : 'invalid-user'
        out.push({
          at: t + i * spec.intervalMs,
          member,
          file: 'auth',
          render: (now) => sshdLine(now, ctx.hostOf(member), pid, ip, { kind, user, port }),
        })
      }
      t += 500 + ctx.rand() * 2000
    }
  }
  return out
}

/** Content discovery: distinct missing paths, enough for http-probing on each node it hits. */
export function httpScan(spec: Spec<'http-scan'>, ctx: TrafficContext): ScheduledLine[] {
  const out: ScheduledLine[] = []
  for (let a = 0; a < spec.attackers; a++) {
    const ip = ctx.attackers.next()
    const targets = targetsFor(ctx, spec.targetsPerAttacker, spec.group, spec.window)
    ctx.truth.attackers.push({
      ip,
      kind: spec.kind,
      targets,
      ...(spec.phase !== undefined ? { phase: spec.phase } : {}),
    })
    let t = within(ctx, spec.window)
    for (const member of targets) {
      const paths = shuffled(ctx.rand, PROBES).slice(0, spec.pathsPerTarget)
      while (paths.length < spec.pathsPerTarget) paths.push(`/probe-${randomInt(ctx.rand, 1e6)}/config.php`)
      paths.forEach((path, i) =>
        out.push({
          at: t + i * spec.intervalMs,
          member,
          file: 'access',
          render: (now) =>
            nginxLine(now, ip, { method: 'GET', path, status: 404, bytes: 153, userAgent: SCANNER_UA }),
        }),
      )
      t += 500 + ctx.rand() * 2000
    }
  }
  return out
}

/**
 * One address guessing passwords on many nodes: a short burst on each, enough to fill half of ssh-bf's bucket
 * (a sighting) but below its ban threshold, so no single node blocks it: only the federation sees the attack.
 */
export function distributedBruteforce(
  spec: Spec<'distributed-bruteforce'>,
  ctx: TrafficContext,
): ScheduledLine[] {
  const out: ScheduledLine[] = []
  for (let a = 0; a < spec.attackers; a++) {
    const ip = ctx.attackers.next()
    const targets = sample(ctx.rand, ctx.honest, Math.max(1, Math.round(ctx.honest.length * spec.nodeShare)))
    ctx.truth.attackers.push({ ip, kind: spec.kind, targets })
    for (const member of targets) {
      const pid = 1000 + randomInt(ctx.rand, 60_000)
      const start = within(ctx, spec.window)
      for (let i = 0; i < spec.touchesPerNode; i++) {
        const user = pick(ctx.rand, LOGINS)
        const port = 30_000 + randomInt(ctx.rand, 30_000)
        out.push({
          at: start + (i * spec.burstMs) / Math.max(1, spec.touchesPerNode - 1),
          member,
          file: 'auth',
          render: (now) =>
            sshdLine(now, ctx.hostOf(member), pid, ip, { kind: 'failed-password', user, port }),
        })
      }
    }
  }
  return out
}

/** A burst of ordinary-looking requests from many sources: ingest and detection load on a few nodes. */
export function flood(spec: Spec<'flood'>, ctx: TrafficContext): ScheduledLine[] {
  const out: ScheduledLine[] = []
  const sources = Array.from({ length: spec.sources }, () => ctx.attackers.next())
  for (const ip of sources) ctx.truth.load.add(ip)
  const start = spec.at * ctx.durationMs
  const total = Math.round(spec.linesPerSecond * spec.seconds)
  for (const member of sample(ctx.rand, ctx.honest, spec.targets)) {
    for (let i = 0; i < total; i++) {
      const ip = sources[i % sources.length] as string
      out.push({
        at: start + (i * spec.seconds * 1000) / total,
        member,
        file: 'access',
        render: (now) =>
          nginxLine(now, ip, { method: 'GET', path: '/', status: 200, bytes: 512, userAgent: SCANNER_UA }),
      })
    }
  }
  return out
}
