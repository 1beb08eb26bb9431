/**
 * Strings shared by many blocklist entries (scenarios, reporter peer ids) held once and named by a small
 * integer, so a million entries store four bytes each instead of a pointer to their own copy. Ids start at 1
 * (0 means "none" in the typed arrays that hold them) and are reference-counted: a name no entry uses any more
 * is forgotten and its id reused, so a stream of one-off names cannot grow the table for ever.
 */
export class Interner {
  readonly #ids = new Map<string, number>()
  readonly #names: (string | undefined)[] = [undefined]
  readonly #refs: number[] = [0]
  readonly #free: number[] = []

  /** distinct names held */
  get size(): number {
    return this.#ids.size
  }

  /** The id for `name`, taking one reference to it. */
  acquire(name: string): number {
    let id = this.#ids.get(name)
    if (id === undefined) {
      id = this.#free.pop() ?? this.#names.length
      this.#ids.set(name, id)
      this.#names[id] = name
      this.#refs[id] = 0
    }
    this.#refs[id]++
    return id
  }

  /** Drops one reference; true when that was the last and the id is free again. */
  release(id: number): boolean {
    if (id === 0 || this.#names[id] === undefined) return false
    if (--this.#refs[id] > 0) return false
    this.#ids.delete(this.#names[id])
    this.#names[id] = undefined
    this.#free.push(id)
    return true
  }

  /** The name behind an id held by someone; '' for 0 or a released id. */
  name(id: number): string {
    return this.#names[id] ?? ''
  }
}
