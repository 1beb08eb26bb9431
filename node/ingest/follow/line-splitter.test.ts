import { describe, expect, it } from 'vitest'
import { LineSplitter } from './line-splitter.ts'

function split(input: Buffer, chunkSizes: number[], maxLineBytes = 64): { lines: string[]; s: LineSplitter } {
  const s = new LineSplitter(maxLineBytes)
  const lines: string[] = []
  let pos = 0
  let i = 0
  while (pos < input.length) {
    const n = chunkSizes[i++ % chunkSizes.length]
    s.push(input.subarray(pos, pos + n), lines)
    pos += n
  }
  return { lines, s }
}

describe('LineSplitter', () => {
  it('gives the same lines however the bytes are chunked, strips CR, holds the partial line', () => {
    const text = 'alpha\r\nbeta\n\ngamma é ü 💥\ndelta\r\nunfinished'
    const input = Buffer.from(text)
    const want = ['alpha', 'beta', '', 'gamma é ü 💥', 'delta']
    for (const sizes of [[1], [2], [3], [5, 1], [7], [input.length]]) {
      const { lines, s } = split(input, sizes)
      expect(lines, `chunks ${sizes}`).toEqual(want)
      expect(s.safeOffset).toBe(input.length - 'unfinished'.length)
      expect(s.skipping).toBe(false)
    }
  })

  it('cuts an over-long line at a UTF-8 boundary, skips its tail, and counts it', () => {
    // 10 bytes of ASCII then 3-byte characters: byte 16 falls inside a character
    const long = 'abcdefghij' + '€'.repeat(20)
    const input = Buffer.from(`${long}\nshort\n${'z'.repeat(40)}`)
    for (const sizes of [[1], [3], [8], [input.length]]) {
      const { lines, s } = split(input, sizes, 16)
      expect(lines, `chunks ${sizes}`).toEqual(['abcdefghij€€', 'short', 'z'.repeat(16)])
      expect(s.cutLines).toBe(2)
      // inside the skipped tail of the second cut line: resume there, still skipping
      expect(s.skipping).toBe(true)
      expect(s.safeOffset).toBe(input.length)
    }
  })

  it('resumes in the middle of a cut line without emitting its tail', () => {
    const s = new LineSplitter(16)
    s.reset(100, true)
    const lines: string[] = []
    s.push(Buffer.from('rest of the long line\nnext\n'), lines)
    expect(lines).toEqual(['next'])
    expect(s.safeOffset).toBe(100 + 27)
  })

  it('flush emits the held partial line', () => {
    const s = new LineSplitter(64)
    const lines: string[] = []
    s.push(Buffer.from('a\nlast words\r'), lines)
    s.flush(lines)
    expect(lines).toEqual(['a', 'last words'])
    expect(s.safeOffset).toBe(13)
  })
})
