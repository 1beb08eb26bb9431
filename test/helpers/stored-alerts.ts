import { getPublicKey } from '../../crypto/signing/ed25519.ts'
import { encodeEnvelope, sealEnvelope } from '../../protocol/envelope/envelope.ts'
import { ALERT_TYPE, ALERT_VERSION, type AlertBody } from '../../protocol/messages/alert.ts'
import type { AlertStore } from '../../node/alerts/alert-store.ts'

/**
 * Signs an ssh-bf alert about 203.0.113.<seq> and stores it as received by gossip at `receivedAt`: the store
 * as a catch-up server reads it, (arrival time, expiry) per alert.
 */
export async function putSignedAlert(
  store: AlertStore,
  secretKey: Uint8Array,
  seq: number,
  receivedAt: number,
  expiresAt: number,
): Promise<void> {
  const body: AlertBody = {
    indicator: `203.0.113.${seq}`,
    scenario: 'ssh-bf',
    severity: 'high',
    confidence: 1,
    events: 1,
    windowSeconds: 0,
    firstSeen: receivedAt,
    lastSeen: receivedAt,
  }
  const envelope = sealEnvelope(
    {
      type: ALERT_TYPE,
      version: ALERT_VERSION,
      sender: getPublicKey(secretKey),
      seq,
      createdAt: receivedAt - 1,
      expiresAt,
      body,
    },
    secretKey,
  )
  await store.put(envelope, encodeEnvelope(envelope), 'gossip', receivedAt)
}
