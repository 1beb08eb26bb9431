/**
 * Non-IID splits for federated simulations: real deployments see different attacks at different sites (a web
 * farm gets DoS floods, a bastion host gets password guessing), so participants are assigned attack families,
 * not random shares. Each family's records are shuffled (seeded) and dealt round-robin to the participants the
 * plan names for it; families the plan omits go to every participant.
 */
import { mulberry32 } from '../../detect/features/prng.ts'
import type { AttackFamily } from './nsl-kdd-schema.ts'

export type FamilyPlan = Partial<Record<AttackFamily, readonly number[]>>

export class InvalidPartitionError extends Error {
  override name = 'InvalidPartitionError'
}

/**
 * The benchmark's 10-site split: normal traffic is shared by every site; DoS is seen only at sites 0-3, probes
 * at 4-6, remote-to-local and user-to-root attacks at 7-8; site 9 sees normal traffic only.
 */
export const NON_IID_FAMILY_PLAN: FamilyPlan = {
  normal: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  dos: [0, 1, 2, 3],
  probe: [4, 5, 6],
  r2l: [7, 8],
  u2r: [7, 8],
}

/** record indices for each of `participants` sites */
export function partitionByFamily(
  families: readonly AttackFamily[],
  participants: number,
  plan: FamilyPlan,
  seed: number,
): Int32Array[] {
  if (!(Number.isSafeInteger(participants) && participants > 0)) {
    throw new InvalidPartitionError(`participants must be a positive integer, got ${participants}`)
  }
  const everyone = Array.from({ length: participants }, (_, i) => i)
  for (const sites of Object.values(plan)) {
    if (
      !sites ||
      sites.length === 0 ||
      sites.some((s) => !(Number.isInteger(s) && s >= 0 && s < participants))
    ) {
      throw new InvalidPartitionError(`plan sites must be non-empty lists of 0..${participants - 1}`)
    }
  }
  const byFamily = new Map<AttackFamily, number[]>()
  families.forEach((f, i) => {
    const list = byFamily.get(f)
    if (list) list.push(i)
    else byFamily.set(f, [i])
  })
  const rand = mulberry32(seed)
  const shares: number[][] = everyone.map(() => [])
  for (const [family, rows] of [...byFamily].sort(([a], [b]) => a.localeCompare(b))) {
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      ;[rows[i], rows[j]] = [rows[j], rows[i]]
    }
    const sites = plan[family] ?? everyone
    rows.forEach((r, k) => shares[sites[k % sites.length]].push(r))
  }
  return shares.map((s) => Int32Array.from(s.sort((a, b) => a - b)))
}
