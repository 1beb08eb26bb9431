import { randomInt, sample } from '../random.ts'
import type { TrafficSpec } from '../scenarios/scenario-spec.ts'
import { BROWSER_UA, nginxLine, sshdLine } from './log-lines.ts'
import type { ScheduledLine, TrafficContext } from './schedule.ts'

type BenignSpec = Extract<TrafficSpec, { kind: 'benign' }>

const PAGES = [
  '/',
  '/about',
  '/pricing',
  '/blog',
  '/blog/2025/rotating-logs',
  '/docs',
  '/docs/install',
  '/contact',
]
const ASSETS = ['/static/app.js', '/static/app.css', '/static/logo.png', '/favicon.ico']
const USERS = ['deploy', 'alice', 'bob', 'ops']

/**
 * People using the guarded services: page views with their assets (mostly 200/304, a rare 404), and for some
 * an SSH login that now and then follows one mistyped password. Nothing here may be blocked.
 */
export function benignTraffic(spec: BenignSpec, ctx: TrafficContext): ScheduledLine[] {
  const out: ScheduledLine[] = []
  const { rand, durationMs } = ctx
  for (const home of ctx.honest) {
    for (let u = 0; u < spec.usersPerNode; u++) {
      const ip = ctx.benign.next()
      ctx.truth.benign.add(ip)
      // Real users visit a few sites of the federation, which is what makes them plausible Sybil victims.
      const visits = [
        home,
        ...sample(
          rand,
          ctx.honest.filter((m) => m !== home),
          randomInt(rand, 3),
        ),
      ]
      for (const member of visits) {
        const gap = 60_000 / Math.max(0.01, spec.pageViewsPerMinute)
        for (let t = rand() * gap; t < durationMs; t += gap * (0.5 + rand())) {
          const page = PAGES[randomInt(rand, PAGES.length)] as string
          const status = rand() < 0.03 ? 404 : 200
          out.push(http(t, member, ip, page, status, 4000 + randomInt(rand, 30_000)))
          const assets = randomInt(rand, 3)
          for (let i = 0; i < assets; i++) {
            out.push(
              http(
                t + 30 * (i + 1),
                member,
                ip,
                ASSETS[randomInt(rand, ASSETS.length)] as string,
                rand() < 0.5 ? 304 : 200,
                2000,
              ),
            )
          }
        }
        if (member === home && rand() < spec.sshShare) {
          const user = USERS[randomInt(rand, USERS.length)] as string
          const at = rand() * durationMs * 0.9
          const port = 40_000 + randomInt(rand, 20_000)
          // someone who logs in with a key is staff: the operator allowlists their address
          const staff = ctx.truth.staff.get(home) ?? []
          staff.push(ip)
          ctx.truth.staff.set(home, staff)
          if (rand() < spec.typoRate)
            out.push(ssh(ctx, at, member, ip, { kind: 'failed-password', user, port }))
          out.push(ssh(ctx, at + 1500, member, ip, { kind: 'accepted', user, port }))
        }
      }
    }
  }
  return out
}

function http(
  at: number,
  member: number,
  ip: string,
  path: string,
  status: number,
  bytes: number,
): ScheduledLine {
  return {
    at,
    member,
    file: 'access',
    render: (now) =>
      nginxLine(now, ip, {
        method: 'GET',
        path,
        status,
        bytes,
        userAgent: BROWSER_UA,
        referer: 'https://example.org/',
      }),
  }
}

function ssh(
  ctx: TrafficContext,
  at: number,
  member: number,
  ip: string,
  line: Parameters<typeof sshdLine>[4],
): ScheduledLine {
  const pid = 1000 + randomInt(ctx.rand, 60_000)
  return { at, member, file: 'auth', render: (now) => sshdLine(now, ctx.hostOf(member), pid, ip, line) }
}
