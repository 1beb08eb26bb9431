import { describe, expect, it } from 'vitest'
import { Interner } from './interner.ts'

describe('Interner', () => {
  it('names each distinct string once and forgets it when its last holder lets go', () => {
    const names = new Interner()
    const a = names.acquire('ssh-bf')
    expect(names.acquire('ssh-bf')).toBe(a)
    const b = names.acquire('http-crawl')
    expect(a).toBeGreaterThan(0)
    expect(b).not.toBe(a)
    expect(names.name(a)).toBe('ssh-bf')
    expect(names.size).toBe(2)
    expect(names.release(a)).toBe(false)
    expect(names.release(a)).toBe(true)
    expect(names.name(a)).toBe('')
    expect(names.size).toBe(1)
    // the freed id is reused rather than the table growing
    expect(names.acquire('port-scan')).toBe(a)
    expect(names.release(0)).toBe(false)
    expect(names.name(0)).toBe('')
  })
})
