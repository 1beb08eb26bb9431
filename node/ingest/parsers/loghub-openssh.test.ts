import { describe, expect, it } from 'vitest'
import { createParser } from './index.ts'
import { UNPARSED } from './parser.ts'
import { dataLines, hasData } from './test-data.ts'

const FILE = 'loghub/OpenSSH/OpenSSH_2k.log'

describe.skipIf(!hasData(FILE))('loghub OpenSSH_2k (LabSZ)', () => {
  it('understands every line and counts the brute force of 183.62.140.253', () => {
    // the 2k sample is one day, 10 Dec; say the file was last written in mid-January, so December is a year back
    const p = createParser('sshd', { reference: Date.UTC(2017, 0, 15) })
    const kinds = new Map<string, number>()
    const byIp = new Map<string, number>()
    let unparsed = 0
    let irrelevant = 0
    let first = Number.POSITIVE_INFINITY
    let last = 0
    for (const line of dataLines(FILE)) {
      const r = p.parse(line)
      if (r === UNPARSED) {
        unparsed++
        continue
      }
      if (r === undefined) {
        irrelevant++
        continue
      }
      kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1)
      if (r.ip === '183.62.140.253') byIp.set(r.kind, (byIp.get(r.kind) ?? 0) + (r.count ?? 1))
      first = Math.min(first, r.time)
      last = Math.max(last, r.time)
    }
    expect(unparsed).toBe(0)
    expect(irrelevant).toBe(847)
    // 520 "Failed password" lines in the whole file (2 of them "message repeated 5 times") + 4 "Failed none"
    expect(Object.fromEntries(kinds)).toEqual({
      auth_failure: 524,
      invalid_user: 113,
      preauth_disconnect: 502,
      max_auth_exceeded: 3,
      no_identification: 10,
      auth_success: 1,
    })
    // the data README's "520 Failed password" is the whole file; this one address has 286 of them
    expect(Object.fromEntries(byIp)).toEqual({ auth_failure: 286, invalid_user: 9, preauth_disconnect: 286 })
    expect(new Date(first).toISOString()).toBe('2016-12-10T06:55:46.000Z')
    expect(new Date(last).toISOString()).toBe('2016-12-10T11:04:45.000Z')
  })
})
