import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { familyOf, loadNslKdd, parseNslKdd } from './nsl-kdd.ts'
import { NSL_KDD_DIMS, NSL_KDD_FEATURE_NAMES } from './nsl-kdd-schema.ts'

const LINES = [
  '0,tcp,ftp_data,SF,491,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2,2,0.00,0.00,0.00,0.00,1.00,0.00,0.00,150,25,0.17,0.03,0.17,0.00,0.00,0.00,0.05,0.00,normal,20',
  '0,tcp,private,S0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,123,6,1.00,1.00,0.00,0.00,0.05,0.07,0.00,255,26,0.10,0.05,0.00,0.00,1.00,1.00,0.00,0.00,neptune,19',
  '0,tcp,http,XYZ,1,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,1,0,0,0,0,1,0,0,1,1,1,0,0,0,0,0,0,0,mscan,5',
  'not,a,record',
  '0,tcp,http,SF,abc,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,1,0,0,0,0,1,0,0,1,1,1,0,0,0,0,0,0,0,normal,21',
]

const at = (name: string) => NSL_KDD_FEATURE_NAMES.indexOf(name)

describe('parseNslKdd', () => {
  it('log-transforms counts, one-hots symbols, labels attack vs normal and maps families', () => {
    const d = parseNslKdd(LINES.join('\r\n') + '\n')
    expect(d.y).toEqual(Uint8Array.of(0, 1, 1))
    expect(d.family).toEqual(['normal', 'dos', 'probe'])
    expect(d.attack).toEqual(['normal', 'neptune', 'mscan'])
    expect(Array.from(d.difficulty)).toEqual([20, 19, 5])
    expect(d.dims).toBe(NSL_KDD_DIMS)
    expect(NSL_KDD_DIMS).toBe(38 + 3 + 70 + 11)
    const row = (i: number) => d.x.subarray(i * d.dims, (i + 1) * d.dims)
    expect(row(0)[at('log1p(src_bytes)')]).toBeCloseTo(Math.log1p(491), 5)
    expect(row(0)[at('same_srv_rate')]).toBe(1)
    expect(row(0)[at('protocol_type=tcp')]).toBe(1)
    expect(row(0)[at('service=ftp_data')]).toBe(1)
    expect(row(0)[at('flag=SF')]).toBe(1)
    expect(row(0).reduce((a, v, i) => a + (i >= 38 ? v : 0), 0)).toBe(3)
    // unknown flag: counted, its one-hot block left zero
    expect(d.unknownSymbols).toBe(1)
    expect(row(2).reduce((a, v, i) => a + (i >= 38 ? v : 0), 0)).toBe(2)
    // a short line and a non-numeric field are counted and skipped
    expect(d.skipped).toBe(2)
  })

  it('maps attacks seen only in the test set, and unknown names to unknown', () => {
    expect(familyOf('apache2')).toBe('dos')
    expect(familyOf('snmpguess')).toBe('r2l')
    expect(familyOf('sqlattack')).toBe('u2r')
    expect(familyOf('never-heard-of-it')).toBe('unknown')
  })

  const file = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'data', 'nsl-kdd', 'KDDTest+.txt')
  it.skipIf(!existsSync(file))('loads all of KDDTest+ with every symbol known', async () => {
    const d = await loadNslKdd(file)
    expect(d.y.length).toBe(22544)
    expect(d.skipped).toBe(0)
    expect(d.unknownSymbols).toBe(0)
    expect(d.family.filter((f) => f === 'unknown')).toEqual([])
    expect(d.y.reduce((a, v) => a + v, 0)).toBe(22544 - 9711)
  })
})
