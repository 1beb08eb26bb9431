import { encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import {
  decodeSyncRequest,
  decodeSyncResponse,
  encodeSyncRequest,
  encodeSyncResponse,
  MAX_SYNC_PAGE_LIMIT,
} from '../../protocol/messages/sync-page.ts'

function malformed(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    return (err as Error).name
  }
  return 'no error'
}

describe('catch-up wire format', () => {
  it('round-trips requests and pages', () => {
    const request = { since: 1_700_000_000_000, cursor: 'abc', limit: 500 }
    expect(decodeSyncRequest(encodeSyncRequest(request))).toEqual(request)
    expect(decodeSyncRequest(encodeSyncRequest({ since: 0, limit: 1, cursor: undefined }))).toEqual({
      since: 0,
      limit: 1,
    })
    const page = { alerts: [new Uint8Array([1, 2, 3])], nextCursor: 'x' }
    expect(decodeSyncResponse(encodeSyncResponse(page))).toEqual(page)
    const error = { error: 'rate_limited' as const, message: 'slow down' }
    expect(decodeSyncResponse(encodeSyncResponse(error))).toEqual(error)
  })

  it('refuses requests outside the schema with a named error', () => {
    const bad = [
      new Uint8Array([0xff]),
      encode([1, 2]),
      encode({ since: -1, limit: 10 }),
      encode({ since: 0, limit: 0 }),
      encode({ since: 0, limit: MAX_SYNC_PAGE_LIMIT + 1 }),
      encode({ since: 0.5, limit: 10 }),
      encode({ since: 0, limit: 10, cursor: 'x'.repeat(257) }),
      encode({ since: 0, limit: 10, extra: true }),
      new Uint8Array([0xbf, 0xff]), // indefinite-length map
    ]
    for (const bytes of bad)
      expect(malformed(() => decodeSyncRequest(bytes))).toBe('MalformedSyncMessageError')
  })

  it('refuses pages that are not byte strings or carry too many alerts', () => {
    expect(malformed(() => decodeSyncResponse(encode({ alerts: ['text'] })))).toBe(
      'MalformedSyncMessageError',
    )
    const tooMany = { alerts: Array.from({ length: MAX_SYNC_PAGE_LIMIT + 1 }, () => new Uint8Array(1)) }
    expect(malformed(() => decodeSyncResponse(encode(tooMany)))).toBe('MalformedSyncMessageError')
    expect(malformed(() => decodeSyncResponse(encode({ error: 'nope', message: '' })))).toBe(
      'MalformedSyncMessageError',
    )
  })
})
