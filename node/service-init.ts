/**
 * A service's init with its undefined fields left out, so `{ ...DEFAULTS, ...stripUndefined(init) }` keeps a
 * default wherever the caller passed `undefined` (as optional config fields do). Every init field is optional
 * and defaulted once, in the factory.
 */
export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
