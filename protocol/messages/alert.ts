import { z } from 'zod'
import { isCanonicalIndicator } from '../indicator.ts'

/** Alert v1: one node's claim that an address attacked the service it guards. */
export const ALERT_TYPE = 'alert'
export const ALERT_VERSION = 1

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const
export type Severity = (typeof SEVERITIES)[number]

/** Scenario names look like CrowdSec's (`ssh-bf`, `crowdsecurity/http-probing`, `manual`). */
export const SCENARIO_PATTERN = /^[a-z0-9][a-z0-9._:/-]{0,63}$/

const MAX_WINDOW_SECONDS = 30 * 24 * 3600

export const AlertBodyV1 = z
  .object({
    indicator: z
      .string()
      .max(64)
      .refine(isCanonicalIndicator, 'must be a canonical IPv4/IPv6 address or CIDR'),
    scenario: z.string().regex(SCENARIO_PATTERN, 'must match ' + SCENARIO_PATTERN.source),
    severity: z.enum(SEVERITIES),
    confidence: z.number().min(0).max(1),
    events: z.number().int().min(1).max(1e9),
    windowSeconds: z.number().int().min(0).max(MAX_WINDOW_SECONDS),
    firstSeen: z.number().int().min(0),
    lastSeen: z.number().int().min(0),
  })
  .strict()
  .refine((b) => b.lastSeen >= b.firstSeen, {
    message: 'lastSeen must not be before firstSeen',
    path: ['lastSeen'],
  })

export type AlertBody = z.infer<typeof AlertBodyV1>

/** What the sender says it saw, and when: neither can be later than the alert's creation (see `checkBody`). */
export function alertTimes(body: AlertBody): Record<string, number> {
  return { firstSeen: body.firstSeen, lastSeen: body.lastSeen }
}
