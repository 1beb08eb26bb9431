/**
 * Labelled window vectors with a learnable rule, for tests and the simulator: attack windows are busier, fail
 * more, probe more paths and look more like tools than benign ones, with enough spread that the classes overlap
 * a little. Each node can get its own address range (keys), so validation splits differ between nodes as they
 * would with real traffic.
 */
import { FEATURE_SCHEMA, FEATURE_DOCS } from '../../detect/features/feature-schema.ts'
import { gaussian, mulberry32 } from '../../detect/features/prng.ts'

const ATTACK_SHIFT: Partial<Record<(typeof FEATURE_SCHEMA.names)[number], number>> = {
  events_log: 1.5,
  rate_per_min_log: 1.5,
  error_ratio: 0.35,
  http_404_ratio: 0.3,
  distinct_path_ratio: 0.25,
  distinct_users_log: 0.8,
  ssh_auth_failure_ratio: 0.3,
  interarrival_mean_log: -0.8,
  interarrival_cv_log: -0.3,
  scanner_ua_ratio: 0.3,
  sensitive_path_ratio: 0.25,
}

export interface SyntheticExample {
  features: number[]
  label: 0 | 1
  key: string
}

export function syntheticExamples(
  count: number,
  opts: { seed?: number; attackShare?: number; keyPrefix?: string; spread?: number } = {},
): SyntheticExample[] {
  const rand = mulberry32(opts.seed ?? 1)
  const attackShare = opts.attackShare ?? 0.4
  const spread = opts.spread ?? 0.35
  const out: SyntheticExample[] = []
  for (let n = 0; n < count; n++) {
    const label: 0 | 1 = rand() < attackShare ? 1 : 0
    const features = FEATURE_SCHEMA.names.map((name) => {
      const scale = FEATURE_DOCS[name].scale
      const base = scale === 'log1p' ? 1.5 : 0.15
      const shift = label === 1 ? (ATTACK_SHIFT[name] ?? 0) : 0
      const noise = gaussian(rand) * (scale === 'log1p' ? spread * 2 : spread * 0.5)
      const v = base + shift + noise
      return scale === 'log1p' ? Math.max(0, v) : Math.min(1, Math.max(0, v))
    })
    out.push({ features, label, key: `${opts.keyPrefix ?? 'syn'}:${n >> 1}` })
  }
  return out
}
