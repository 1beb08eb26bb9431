import { mulberry32, randomInt, type Prng } from '../features/prng.ts'

/**
 * A bounded, seeded sample of a stream of vectors (Vitter's algorithm R) that forgets slowly: the replacement
 * probability never drops below capacity / horizon, so after many vectors the sample is about uniform over the
 * last `horizon` of them instead of over all history. The forest should learn what traffic looks like now, not
 * last month. Vectors are copied into one preallocated matrix: holding the caller's arrays would pin their
 * chunks (`Slab`) and cost an allocation each.
 */
export class VectorReservoir {
  readonly capacity: number
  readonly dims: number
  readonly horizon: number
  readonly #rows: Float64Array[]
  readonly #rand: Prng
  #size = 0
  #seen = 0

  constructor(capacity: number, dims: number, seed: number, horizon = capacity * 16) {
    this.capacity = capacity
    this.dims = dims
    this.horizon = Math.max(horizon, capacity)
    this.#rand = mulberry32(seed)
    const matrix = new Float64Array(capacity * dims)
    this.#rows = Array.from({ length: capacity }, (_, i) => matrix.subarray(i * dims, (i + 1) * dims))
  }

  get size(): number {
    return this.#size
  }

  /** vectors offered so far */
  get seen(): number {
    return this.#seen
  }

  add(vector: ArrayLike<number>): void {
    this.#seen++
    if (this.#size < this.capacity) {
      this.#rows[this.#size++].set(vector)
      return
    }
    const j = randomInt(this.#rand, Math.min(this.#seen, this.horizon))
    if (j < this.capacity) this.#rows[j].set(vector)
  }

  /** the held vectors: views into the reservoir, overwritten by later `add`s */
  items(): readonly Float64Array[] {
    return this.#size === this.capacity ? this.#rows : this.#rows.slice(0, this.#size)
  }
}
