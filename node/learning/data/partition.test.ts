import { describe, expect, it } from 'vitest'
import type { AttackFamily } from './nsl-kdd-schema.ts'
import { NON_IID_FAMILY_PLAN, partitionByFamily } from './partition.ts'

describe('partitionByFamily', () => {
  const families: AttackFamily[] = [
    ...Array<AttackFamily>(100).fill('normal'),
    ...Array<AttackFamily>(40).fill('dos'),
    ...Array<AttackFamily>(30).fill('probe'),
    ...Array<AttackFamily>(8).fill('r2l'),
    ...Array<AttackFamily>(2).fill('u2r'),
  ]

  it('deals every record to exactly one site, each family only to its planned sites', () => {
    const shares = partitionByFamily(families, 10, NON_IID_FAMILY_PLAN, 1)
    const all = shares.flatMap((s) => Array.from(s)).sort((a, b) => a - b)
    expect(all).toEqual(families.map((_, i) => i))
    const seen = (site: number) => new Set(Array.from(shares[site], (i) => families[i]))
    expect(seen(0)).toEqual(new Set(['normal', 'dos']))
    expect(seen(5)).toEqual(new Set(['normal', 'probe']))
    expect(seen(7)).toEqual(new Set(['normal', 'r2l', 'u2r']))
    expect(seen(9)).toEqual(new Set(['normal']))
    expect(shares.map((s) => s.length)).toEqual([20, 20, 20, 20, 20, 20, 20, 15, 15, 10])
  })

  it('is reproducible for a seed', () => {
    expect(partitionByFamily(families, 10, NON_IID_FAMILY_PLAN, 4)).toEqual(
      partitionByFamily(families, 10, NON_IID_FAMILY_PLAN, 4),
    )
  })

  it('rejects a plan naming a site that does not exist', () => {
    expect(() => partitionByFamily(families, 3, NON_IID_FAMILY_PLAN, 1)).toThrow(
      expect.objectContaining({ name: 'InvalidPartitionError' }),
    )
  })
})
