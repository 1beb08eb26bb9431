import { z } from 'zod'
import { isCanonicalIndicator } from '../indicator.ts'
import { SCENARIO_PATTERN } from './alert.ts'

/**
 * Blocklist summary v1: what one node currently blocks, highest score first. Peers take it as evidence for
 * their own reputation-weighted blocklist, never as an order.
 */
export const BLOCKLIST_SUMMARY_TYPE = 'blocklist-summary'
export const BLOCKLIST_SUMMARY_VERSION = 1

/** entries per summary; a node with more sends its highest scores and says it truncated */
export const MAX_SUMMARY_ENTRIES = 1000

export const SummaryEntryV1 = z
  .object({
    value: z.string().max(64).refine(isCanonicalIndicator, 'must be a canonical IPv4/IPv6 address or CIDR'),
    /** the sender's combined evidence, 0..1 */
    score: z.number().min(0).max(1),
    scenario: z.string().regex(SCENARIO_PATTERN, 'must match ' + SCENARIO_PATTERN.source),
    /** ms since the epoch */
    expiresAt: z.number().int().min(0),
  })
  .strict()

export const BlocklistSummaryBodyV1 = z
  .object({
    entries: z.array(SummaryEntryV1).max(MAX_SUMMARY_ENTRIES),
    /** ms since the epoch, when the sender took the snapshot */
    generatedAt: z.number().int().min(0),
    /** how many entries the sender's list had, of which `entries` is the top */
    total: z.number().int().min(0).max(1e9),
    truncated: z.boolean(),
  })
  .strict()
  .refine((b) => b.total >= b.entries.length, {
    message: 'total must be at least the number of entries',
    path: ['total'],
  })

export type SummaryEntry = z.infer<typeof SummaryEntryV1>
export type BlocklistSummaryBody = z.infer<typeof BlocklistSummaryBodyV1>
