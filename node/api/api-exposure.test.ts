import { describe, expect, it } from 'vitest'
import { apiExposureWarning } from './api-exposure.ts'

describe('apiExposureWarning', () => {
  it('is quiet for loopback', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'])
      expect(apiExposureWarning(host), host).toBeUndefined()
  })

  it('warns for every other address, and says "every interface" for the wildcard', () => {
    expect(apiExposureWarning('0.0.0.0')).toContain('every interface')
    expect(apiExposureWarning('::')).toContain('every interface')
    for (const host of ['192.0.2.10', '2001:db8::1', 'api.example.org'])
      expect(apiExposureWarning(host), host).toContain('reachable from the network')
  })
})
