/**
 * Gossipsub topic names. The trailing number is the wire version: a node that cannot read a newer version
 * simply does not subscribe to it, so versions can run side by side during an upgrade.
 */
export const TOPICS = {
  alerts: '/shieldwall/alerts/1',
} as const

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS]
