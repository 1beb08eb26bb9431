import type { z } from 'zod'
import { TOPICS } from '../topics.ts'
import { ALERT_TYPE, ALERT_VERSION, AlertBodyV1, alertTimes } from './alert.ts'
import { MODEL_ANNOUNCE_TYPE, MODEL_ANNOUNCE_VERSION, ModelAnnounceBodyV1 } from './model-announce.ts'
import { MODEL_UPDATE_TYPE, MODEL_UPDATE_VERSION, ModelUpdateBodyV1 } from './model-update.ts'
import {
  BLOCKLIST_SUMMARY_TYPE,
  BLOCKLIST_SUMMARY_VERSION,
  BlocklistSummaryBodyV1,
} from './blocklist-summary.ts'

/** What a topic carries: the accepted message types and versions, each with its body schema. */
export interface MessageSpec {
  type: string
  version: number
  body: z.ZodType
  /**
   * Timestamps the body claims (field name -> ms since the epoch) that cannot be later than the envelope's own
   * creation: what a sender saw happened before it signed.
   */
  times?: (body: any) => Record<string, number>
}

export const TOPIC_MESSAGES: Record<string, MessageSpec[]> = {
  [TOPICS.alerts]: [{ type: ALERT_TYPE, version: ALERT_VERSION, body: AlertBodyV1, times: alertTimes }],
  [TOPICS.models]: [
    { type: MODEL_UPDATE_TYPE, version: MODEL_UPDATE_VERSION, body: ModelUpdateBodyV1 },
    { type: MODEL_ANNOUNCE_TYPE, version: MODEL_ANNOUNCE_VERSION, body: ModelAnnounceBodyV1 },
  ],
  [TOPICS.blocklists]: [
    {
      type: BLOCKLIST_SUMMARY_TYPE,
      version: BLOCKLIST_SUMMARY_VERSION,
      body: BlocklistSummaryBodyV1,
      times: (b: { generatedAt: number }) => ({ generatedAt: b.generatedAt }),
    },
  ],
}
