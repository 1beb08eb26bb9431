import { describe, expect, it } from 'vitest'
import { TextInterner } from './text-interner.ts'

describe('TextInterner', () => {
  it('hands back one string per repeated text, always equal to the text asked for', () => {
    const interner = new TextInterner(16, 64)
    const texts = ['Mozilla/5.0 (X11; Linux x86_64)', 'curl/8.5.0', '/index.html', '/.env', 'a', 'ab', 'ba']
    const first = new Map<string, string>()
    for (let round = 0; round < 3; round++) {
      for (const t of texts) {
        const line = `x "${t}" y`
        const got = interner.get(line, 3, 3 + t.length)
        expect(got).toBe(t)
        if (round === 0) first.set(t, got)
      }
    }
    // a table of 16 cells holds these few texts; the same object comes back for the common ones
    expect(interner.get('"curl/8.5.0"', 1, 11)).toBe(first.get('curl/8.5.0'))
    expect(Object.is(interner.get('"curl/8.5.0"', 1, 11), first.get('curl/8.5.0'))).toBe(true)
  })

  it('slices text over the length cap without holding it', () => {
    const interner = new TextInterner(16, 8)
    expect(interner.get('0123456789abcdef', 2, 14)).toBe('23456789abcd')
  })
})
