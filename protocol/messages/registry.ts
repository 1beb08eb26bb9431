import type { z } from 'zod'
import { TOPICS } from '../topics.ts'
import { ALERT_TYPE, ALERT_VERSION, AlertBodyV1 } from './alert.ts'

/** What a topic carries: the accepted message types and versions, each with its body schema. */
export interface MessageSpec {
  type: string
  version: number
  body: z.ZodType
}

export const TOPIC_MESSAGES: Record<string, MessageSpec[]> = {
  [TOPICS.alerts]: [{ type: ALERT_TYPE, version: ALERT_VERSION, body: AlertBodyV1 }],
}
