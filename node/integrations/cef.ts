import { VERSION } from '../version.ts'

/** What a CEF line is made from: an alert or a blocklist entry. */
export interface CefEvent {
  scenario: string
  indicator: string
  /** 0..1 */
  confidence: number
  severity?: 'low' | 'medium' | 'high' | 'critical'
  time: number
  reporter?: string
  action?: 'alert' | 'block' | 'unblock'
  message?: string
}

const SEVERITY: Record<string, number> = { low: 3, medium: 5, high: 8, critical: 10 }

/** Header fields escape `\` and `|` (CEF spec, "Character Encoding"). */
function header(text: string): string {
  return text.replace(/[\\|]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ')
}

/** Extension values escape `\` and `=` and encode newlines. */
function extension(text: string): string {
  return text
    .replace(/[\\=]/g, (c) => `\\${c}`)
    .replace(/\r/g, '\\r')
    .replace(/\n/g, '\\n')
}

/**
 * One ArcSight CEF line (`CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension`) for syslog-based
 * SIEMs. The address goes in `src` (the attacker is the source of the traffic), `cs1` names the reporting peer.
 */
export function toCef(e: CefEvent): string {
  const severity = SEVERITY[e.severity ?? 'medium'] ?? 5
  const name = `${e.action ?? 'alert'} ${e.scenario} from ${e.indicator}`
  const ext: [string, string][] = [
    ['rt', String(e.time)],
    [e.indicator.includes(':') ? 'c6a2' : 'src', e.indicator.split('/')[0]],
    ['act', e.action ?? 'alert'],
    ['cfp1', e.confidence.toFixed(2)],
    ['cfp1Label', 'confidence'],
  ]
  if (e.indicator.includes('/')) ext.push(['cs2', e.indicator], ['cs2Label', 'range'])
  if (e.reporter !== undefined) ext.push(['cs1', e.reporter], ['cs1Label', 'reporter'])
  if (e.message !== undefined) ext.push(['msg', e.message])
  return (
    [
      'CEF:0',
      'shieldwall',
      'shieldwall',
      header(VERSION),
      header(e.scenario),
      header(name),
      String(severity),
    ].join('|') +
    '|' +
    ext.map(([k, v]) => `${k}=${extension(v)}`).join(' ')
  )
}
