import { describe, expect, it } from 'vitest'
import { LocalTime } from './local-time.ts'
import { isSshdProgram, newSyslogHeader, SyslogHeaderReader } from './syslog-header.ts'
import { YearTracker } from './year-tracker.ts'

function read(line: string, local = new LocalTime()) {
  const reader = new SyslogHeaderReader(
    new YearTracker({ year: 2024, reference: Date.UTC(2030, 0, 1) }),
    local,
  )
  const h = newSyslogHeader()
  const ok = reader.read(line, h)
  return {
    ok,
    time: h.time === h.time ? new Date(h.time).toISOString() : undefined,
    prog: line.slice(h.progStart, h.progEnd),
    pid: h.pid,
    msg: line.slice(h.msgStart),
  }
}

describe('SyslogHeaderReader', () => {
  it('reads BSD syslog with padded, zero-padded and unpadded days', () => {
    expect(read('Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user x from 1.2.3.4')).toEqual({
      ok: true,
      time: '2024-12-10T06:55:46.000Z',
      prog: 'sshd',
      pid: 24200,
      msg: 'Invalid user x from 1.2.3.4',
    })
    expect(read('Jun  8 10:44:36 server sshd[3]: m').time).toBe('2024-06-08T10:44:36.000Z')
    expect(read('Aug 03 21:39:20 hostname sshd[69420]: m').time).toBe('2024-08-03T21:39:20.000Z')
    expect(read('Feb 8 17:15:01 hostname sshd[1]: m').time).toBe('2024-02-08T17:15:01.000Z')
  })

  it('reuses the parsed minute only for the very same minute text', () => {
    const reader = new SyslogHeaderReader(
      new YearTracker({ year: 2024, reference: Date.UTC(2030, 0, 1) }),
      new LocalTime(),
    )
    const h = newSyslogHeader()
    const at = (line: string) => (reader.read(line, h) ? new Date(h.time).toISOString() : 'no')
    expect(at('Dec 10 06:55:46 h sshd[1]: m')).toBe('2024-12-10T06:55:46.000Z')
    expect(at('Dec 10 06:55:59 h sshd[1]: m')).toBe('2024-12-10T06:55:59.000Z')
    expect(at('Dec 10 06:56:00.5 h sshd[1]: m')).toBe('2024-12-10T06:56:00.500Z')
    expect(at('Jan 10 06:56:00 h sshd[1]: m')).toBe('2025-01-10T06:56:00.000Z')
    expect(at('Jan 10 06:56:7x h sshd[1]: m')).toBe('no')
  })

  it('reads journalctl short-precise fractions', () => {
    expect(read('Dec 10 06:55:46.123456 host sshd[1]: m').time).toBe('2024-12-10T06:55:46.123Z')
  })

  it('reads RFC 3339 with offsets, and journalctl short-iso', () => {
    const r = read('2024-01-01T12:00:00.123456+01:00 host sshd-session[77]: Failed none')
    expect(r).toMatchObject({ ok: true, time: '2024-01-01T11:00:00.123Z', prog: 'sshd-session', pid: 77 })
    expect(read('2024-01-01T12:00:00+0100 host sshd[1]: m').time).toBe('2024-01-01T11:00:00.000Z')
    expect(read('2015-04-16T18:02:50.321974+00:00 host sshd[2716]: m').time).toBe('2015-04-16T18:02:50.321Z')
    expect(read('2024-01-01T12:00:00Z host sshd[1]: m').time).toBe('2024-01-01T12:00:00.000Z')
  })

  it('reads journalctl short-unix', () => {
    expect(read('1704106800.250000 host sshd[1]: m').time).toBe('2024-01-01T11:00:00.250Z')
  })

  it('accepts a missing host, a missing pid, bracketed programs and missing timestamps', () => {
    expect(read('Nov 23 21:50:19 sshd[8148]: Disconnecting')).toMatchObject({
      prog: 'sshd',
      pid: 8148,
      msg: 'Disconnecting',
    })
    expect(read('Mar  3 00:17:22 [sshd]: User root')).toMatchObject({
      prog: 'sshd',
      pid: -1,
      msg: 'User root',
    })
    expect(read('Jun 25 23:53:34 [sshd] User root')).toMatchObject({ prog: 'sshd', msg: 'User root' })
    expect(read('Jun 25 23:53:34 host sshd: User root')).toMatchObject({
      prog: 'sshd',
      pid: -1,
      msg: 'User root',
    })
    expect(read('srv sshd[13709]: error: PAM')).toMatchObject({
      ok: true,
      time: undefined,
      prog: 'sshd',
      pid: 13709,
    })
    expect(read('Feb 15 16:23:40 srv httpd/backend1[22034]: [authz_core:error]')).toMatchObject({
      prog: 'httpd/backend1',
      pid: 22034,
    })
  })

  it('reads RFC 5424 with structured data containing brackets', () => {
    const r = read(
      '<38>1 2019-07-08T17:40:17.954167-04:00 hostname.example.com sshd 55555 - [timeQuality tzKnown="1" isSynced="0"][xxx@123 test="[brackets]"] Failed unknown',
    )
    expect(r).toEqual({
      ok: true,
      time: '2019-07-08T21:40:17.954Z',
      prog: 'sshd',
      pid: 55555,
      msg: 'Failed unknown',
    })
    expect(read('<38>1 2019-07-08T17:40:16Z h sshd 57915 - - Failed x')).toMatchObject({
      msg: 'Failed x',
      pid: 57915,
    })
    expect(read('<86>Dec 10 06:55:46 host sshd[5]: m')).toMatchObject({ prog: 'sshd', pid: 5 })
  })

  it('rejects lines without a program token', () => {
    expect(read('just some words here').ok).toBe(false)
    expect(read('Dec 10 06:55:46 no program here').ok).toBe(false)
    expect(read('').ok).toBe(false)
  })

  it('converts local time with a fixed offset or an IANA zone', () => {
    expect(read('Jul  1 12:00:00 h sshd[1]: m', new LocalTime({ utcOffsetMinutes: 120 })).time).toBe(
      '2024-07-01T10:00:00.000Z',
    )
    const paris = new LocalTime({ timeZone: 'Europe/Paris' })
    expect(read('Jul  1 12:00:00 h sshd[1]: m', paris).time).toBe('2024-07-01T10:00:00.000Z')
    expect(read('Jan  1 12:00:00 h sshd[1]: m', paris).time).toBe('2024-01-01T11:00:00.000Z')
    // an explicit offset in the line wins over the configured zone
    expect(read('2024-07-01T12:00:00+00:00 h sshd[1]: m', paris).time).toBe('2024-07-01T12:00:00.000Z')
  })
})

describe('isSshdProgram', () => {
  it('knows the OpenSSH process names', () => {
    for (const p of ['sshd', 'sshd-session', 'sshd-auth']) expect(isSshdProgram(p, 0, p.length), p).toBe(true)
    for (const p of ['sshd-keygen', 'ssh', 'sshdx', 'cron'])
      expect(isSshdProgram(p, 0, p.length), p).toBe(false)
  })
})
