/**
 * Gossipsub topic names. The trailing number is the wire version: a node that cannot read a newer version
 * simply does not subscribe to it, so versions can run side by side during an upgrade.
 */
export const TOPICS = {
  alerts: '/shieldwall/alerts/1',
  /** federated learning: model updates for a round and announcements of adopted global models */
  models: '/shieldwall/models/1',
  blocklists: '/shieldwall/blocklists/1',
} as const

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS]
