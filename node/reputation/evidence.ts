/**
 * What this node learns about a peer, and how much each observation is worth, in units of Beta evidence (one
 * unit is one fully trusted observation). Asymmetric on purpose: trust is earned slowly by alerts that turn
 * out true and lost quickly by alerts that are shown false, so a Sybil cannot bank cheap credit and spend it
 * on one lie.
 */
export const EVIDENCE_KINDS = [
  'corroborated-by-own-detector',
  'corroborated-by-trusted-peer',
  'confirmed-by-admin',
  'reported-allowlisted-address',
  'marked-false-by-admin',
  'never-corroborated',
  'invalid-message',
] as const

export type EvidenceKind = (typeof EVIDENCE_KINDS)[number]

export type Outcome = 'positive' | 'negative'

/** our own detector saw the same attacker after the peer told us: the strongest honest signal there is */
export const OWN_DETECTOR_WEIGHT = 1
/** second-hand: only as good as the trusted peer, so half of our own */
export const TRUSTED_PEER_WEIGHT = 0.5
export const ADMIN_CONFIRMED_WEIGHT = 2
/**
 * A report of a public address that only we allowlist (our own address, a monitoring host, an operator's
 * staff). Light and soft, like never-corroborated: the reporter cannot see our allowlist (it never leaves a
 * node), so an honest peer behind whose service our uptime checker looks like a scanner reports it again at
 * every decision. Charging that like a lie would isolate honest nodes; here it only lowers how much the
 * reporter's alerts weigh with us (a quarter of what an invalid or forged message costs, a thirty-second of an
 * admin's false verdict), and never moves its gossipsub score. A liar gains nothing from
 * such reports: we never block an allowlisted address, and every one still costs it some weight here.
 * Non-routable addresses (private, loopback, special-use) cost nothing at all: they are ignored, since they
 * say nothing about our network (see nonRoutable in node/blocklist/allowlist.ts).
 */
export const ALLOWLISTED_REPORT_WEIGHT = 0.25
/** an admin looked and said no: a false verdict, thirty-two times an allowlist hit, which may be an honest mistake */
export const ADMIN_FALSE_WEIGHT = 8
/**
 * Weak: an honest peer sees attackers we never see. Alone it only lowers how much a peer's alerts weigh; it
 * never makes the peer a liar in gossipsub's eyes (see `softEvidence`).
 */
export const NEVER_CORROBORATED_WEIGHT = 0.25
/** gossipsub already charges the forwarder (P4); this is the slower memory of it */
export const INVALID_MESSAGE_WEIGHT = 1

export const EVIDENCE: Record<EvidenceKind, { outcome: Outcome; weight: number; soft: boolean }> = {
  'corroborated-by-own-detector': { outcome: 'positive', weight: OWN_DETECTOR_WEIGHT, soft: false },
  'corroborated-by-trusted-peer': { outcome: 'positive', weight: TRUSTED_PEER_WEIGHT, soft: false },
  'confirmed-by-admin': { outcome: 'positive', weight: ADMIN_CONFIRMED_WEIGHT, soft: false },
  // the reporter could not know: lowers its weight here, never makes it a liar
  'reported-allowlisted-address': { outcome: 'negative', weight: ALLOWLISTED_REPORT_WEIGHT, soft: true },
  'marked-false-by-admin': { outcome: 'negative', weight: ADMIN_FALSE_WEIGHT, soft: false },
  // absence of proof, not proof of a lie
  'never-corroborated': { outcome: 'negative', weight: NEVER_CORROBORATED_WEIGHT, soft: true },
  'invalid-message': { outcome: 'negative', weight: INVALID_MESSAGE_WEIGHT, soft: false },
}

export function isEvidenceKind(kind: unknown): kind is EvidenceKind {
  return typeof kind === 'string' && Object.hasOwn(EVIDENCE, kind)
}
