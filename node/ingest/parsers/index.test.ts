import { describe, expect, it } from 'vitest'
import { createParser, FORMATS, UNPARSED } from './index.ts'

describe('createParser', () => {
  it('creates a parser for every known format', () => {
    for (const f of FORMATS) {
      const p = f === 'json' ? createParser(f, { json: { fields: { ip: 'ip' } } }) : createParser(f)
      expect(p.format).toBe(f)
      expect(p.parse('\u0007 definitely not a log line')).toBe(UNPARSED)
    }
  })

  it('throws a named error listing the formats for an unknown one', () => {
    let err: unknown
    try {
      createParser('syslog-ng-xml')
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ name: 'UnknownFormatError' })
    expect((err as Error).message).toContain('sshd, nginx, apache')
  })

  it('requires a mapping for plain json', () => {
    expect(() => createParser('json')).toThrow(expect.objectContaining({ name: 'InvalidJsonMappingError' }))
  })
})
