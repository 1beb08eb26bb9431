import type { EventKind, SecurityEvent, ServiceKind } from '../event.ts'

/**
 * Every parser builds events here, with every field present in one fixed order, so all events share one hidden
 * class and detectors reading them stay monomorphic. Optional fields start undefined and are filled in place.
 */
export function newEvent(
  time: number,
  ip: string,
  service: ServiceKind,
  kind: EventKind,
  source: string | undefined,
): SecurityEvent {
  return {
    time,
    ip,
    service,
    kind,
    user: undefined,
    method: undefined,
    path: undefined,
    status: undefined,
    bytes: undefined,
    userAgent: undefined,
    referer: undefined,
    source,
    count: undefined,
  }
}

/** kinds that mean "something went wrong for this client" (everything but a success or a plain request) */
export function isFailureKind(kind: EventKind): boolean {
  return kind !== 'auth_success' && kind !== 'http_request'
}
