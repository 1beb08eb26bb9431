import type { ServiceKind } from '../../ingest/event.ts'

/** Per-service state lives in small arrays indexed by service; comparing two strings beats a Map lookup per event. */
export const SERVICES: readonly ServiceKind[] = ['ssh', 'http', 'other']

export function serviceIndex(service: ServiceKind): number {
  return service === 'http' ? 1 : service === 'ssh' ? 0 : 2
}

/** what one event of a service is called in reasons */
export function eventNoun(service: ServiceKind): string {
  return service === 'http' ? 'requests' : service === 'ssh' ? 'ssh events' : 'events'
}

/** the scenario a rate detector names: a web flood, or just an unusual rate elsewhere */
export function rateScenario(service: ServiceKind): string {
  return service === 'http' ? 'http-flood' : 'rate-anomaly'
}

/** `1,900` */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}
