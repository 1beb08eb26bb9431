import { describe, expect, it } from 'vitest'
import type { SecurityEvent } from '../event.ts'
import { COWRIE, TRAEFIK } from './json-presets.ts'
import { ipValue, JsonLinesParser, timeValue } from './json-lines.ts'
import type { ParseResult } from './parser.ts'
import { UNPARSED } from './parser.ts'

function event(r: ParseResult): SecurityEvent {
  if (r === undefined || r === UNPARSED) throw new Error(`expected an event, got ${String(r)}`)
  return r
}

describe('JsonLinesParser', () => {
  it('maps dotted paths, alternatives and a kind table', () => {
    const p = new JsonLinesParser({
      fields: {
        time: 'ts',
        ip: ['request.remote_addr', 'client'],
        kind: 'event.type',
        user: 'user.name',
        path: 'request.uri',
        status: 'status',
      },
      kinds: { login_failed: 'http_auth_failure', login_ok: 'auth_success', noise: null },
      service: 'http',
    })
    const ev = event(
      p.parse(
        '{"ts":1700000000,"request":{"remote_addr":"192.0.2.1","uri":"/login"},"event":{"type":"login_failed"},"user":{"name":"bob"},"status":"401"}',
      ),
    )
    expect(ev).toMatchObject({
      time: 1_700_000_000_000,
      ip: '192.0.2.1',
      kind: 'http_auth_failure',
      user: 'bob',
      path: '/login',
      status: 401,
      service: 'http',
    })
    expect(event(p.parse('{"client":"2001:DB8::1","event":{"type":"login_ok"}}', { now: 5 })).ip).toBe(
      '2001:db8::1',
    )
    expect(p.parse('{"client":"192.0.2.1","event":{"type":"noise"}}')).toBeUndefined()
    expect(p.parse('{"client":"192.0.2.1","event":{"type":"unmapped"}}')).toBeUndefined()
    expect(p.parse('{"event":{"type":"login_failed"}}')).toBeUndefined() // no client
  })

  it('finds keys that contain dots themselves', () => {
    const p = new JsonLinesParser({ fields: { ip: 'client.ip' }, defaultKind: 'generic_failure' })
    expect(event(p.parse('{"client.ip":"192.0.2.7"}')).ip).toBe('192.0.2.7')
  })

  it('counts invalid JSON as UNPARSED and never throws', () => {
    const p = new JsonLinesParser({ fields: { ip: 'ip' }, defaultKind: 'generic_failure' })
    for (const bad of ['not json', '{"ip": ', '[1,2]', '{"ip":"1.2.3.4"} trailing', '', 'null'])
      expect(p.parse(bad), bad).toBe(UNPARSED)
  })

  it('reads times as s, ms, µs, ns or ISO 8601', () => {
    const ms = Date.UTC(2021, 11, 8, 14, 2, 43, 587)
    expect(timeValue(ms / 1000)).toBe(ms)
    expect(timeValue(ms)).toBe(ms)
    expect(timeValue(ms * 1000)).toBe(ms)
    expect(timeValue(`${ms}000000`)).toBe(ms)
    expect(timeValue('2021-12-08T14:02:43.587782192Z')).toBe(ms)
    expect(timeValue('2021-12-08T15:02:43.587+01:00')).toBe(ms)
    expect(timeValue({})).toBeNaN()
  })

  it('reads proxy-style addresses', () => {
    expect(ipValue('192.168.1.100,10.0.0.50')).toBe('192.168.1.100')
    expect(ipValue('192.0.2.1:39496')).toBe('192.0.2.1')
    expect(ipValue('[2001:db8::1]:443')).toBe('2001:db8::1')
    expect(ipValue('::ffff:192.0.2.1')).toBe('192.0.2.1')
    expect(ipValue('example.com')).toBeUndefined()
    expect(ipValue(42)).toBeUndefined()
  })

  it('rejects mappings naming unknown kinds', () => {
    expect(() => new JsonLinesParser({ fields: { ip: 'ip' }, kinds: { x: 'nope' as never } })).toThrow(
      expect.objectContaining({ name: 'InvalidJsonMappingError' }),
    )
    expect(() => new JsonLinesParser({ fields: {} as never })).toThrow(
      expect.objectContaining({ name: 'InvalidJsonMappingError' }),
    )
  })
})

describe('presets', () => {
  it('traefik', () => {
    const p = new JsonLinesParser(TRAEFIK)
    const ev = event(
      p.parse(
        '{"ClientAddr":"192.0.2.9:1","ClientHost":"192.0.2.9","ClientUsername":"-","DownstreamContentSize":357,"DownstreamStatus":404,"RequestMethod":"GET","RequestPath":"/.env","StartUTC":"2021-12-08T14:02:43.587782192Z","request_User-Agent":"Nikto","time":"2021-12-08T14:02:43Z"}',
      ),
    )
    expect(ev).toMatchObject({
      ip: '192.0.2.9',
      kind: 'http_request',
      service: 'http',
      method: 'GET',
      path: '/.env',
      status: 404,
      bytes: 357,
      userAgent: 'Nikto',
      user: undefined,
      time: Date.UTC(2021, 11, 8, 14, 2, 43, 587),
    })
  })

  it('cowrie, skipping unmapped records before JSON.parse', () => {
    const p = new JsonLinesParser(COWRIE)
    const failed = event(
      p.parse(
        '{"eventid":"cowrie.login.failed","username":"root","password":"x","src_ip":"192.0.2.5","timestamp":"2026-08-13T00:00:35.1Z"}',
      ),
    )
    expect(failed).toMatchObject({ kind: 'auth_failure', user: 'root', ip: '192.0.2.5', service: 'ssh' })
    expect(
      event(
        p.parse(
          '{"eventid":"cowrie.session.connect","src_ip":"192.0.2.5","timestamp":"2026-08-13T00:00:35Z"}',
        ),
      ).kind,
    ).toBe('preauth_disconnect')
    expect(
      event(p.parse('{"eventid":"cowrie.login.success","username":"a","src_ip":"192.0.2.5"}')).kind,
    ).toBe('auth_success')
    expect(p.parse('{"eventid":"cowrie.client.version","src_ip":"192.0.2.5"}')).toBeUndefined()
    // prefiltered lines must still look like a JSON object to count as understood
    expect(p.parse('{"eventid":"cowrie.client.version", truncat')).toBe(UNPARSED)
    expect(p.parse('not a json line at all')).toBe(UNPARSED)
  })
})
