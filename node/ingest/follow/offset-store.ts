import type { Store, StoreBatchOp } from '../../store/open-store.ts'

/**
 * How far a followed path has been delivered, and which file that offset belongs to. dev/ino say which file the
 * path named; the head fingerprint (SHA-256 of its first `headLen` bytes) tells that file apart from a new one
 * that happens to get the same inode number after the old one was deleted.
 */
export interface FileOffset {
  /** device and inode as decimal strings: inode numbers may not fit in a double */
  dev: string
  ino: string
  /** byte offset where reading resumes: the start of the first line not yet delivered */
  offset: number
  /** the offset is inside a line that was cut at maxLineBytes, whose tail up to the newline is to be skipped */
  skipping: boolean
  /** how many bytes from the start of the file `headHash` covers (up to 256; fewer while the file was shorter) */
  headLen: number
  /** hex SHA-256 of the first `headLen` bytes */
  headHash: string
}

export interface OffsetStore {
  get(path: string): Promise<FileOffset | undefined>
  put(path: string, offset: FileOffset): Promise<void>
  delete(path: string): Promise<void>
  /**
   * The write `put` would do, for a consumer to commit in its own batch together with what it made of the
   * lines: then the offset and their results are on disk together or not at all.
   */
  putOp?(path: string, offset: FileOffset): StoreBatchOp
}

/** Offsets in the node's store, one key per followed path (absolute), sublevel `ingest-offsets`. */
export class LevelOffsetStore implements OffsetStore {
  readonly #offsets

  constructor(db: Store) {
    this.#offsets = db.sublevel<string, string>('ingest-offsets', { valueEncoding: 'utf8' })
  }

  async get(path: string): Promise<FileOffset | undefined> {
    const raw = await this.#offsets.get(path)
    return raw === undefined ? undefined : parseFileOffset(raw)
  }

  async put(path: string, offset: FileOffset): Promise<void> {
    await this.#offsets.put(path, JSON.stringify(offset))
  }

  putOp(path: string, offset: FileOffset): StoreBatchOp {
    return { type: 'put', sublevel: this.#offsets, key: path, value: JSON.stringify(offset) }
  }

  async delete(path: string): Promise<void> {
    await this.#offsets.del(path)
  }
}

/** A damaged or foreign record reads as absent (the file is then treated as never seen), never as a crash. */
export function parseFileOffset(raw: string): FileOffset | undefined {
  let v: unknown
  try {
    v = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (typeof v !== 'object' || v === null) return undefined
  const o = v as Record<string, unknown>
  const ok =
    typeof o.dev === 'string' &&
    /^\d+$/.test(o.dev) &&
    typeof o.ino === 'string' &&
    /^\d+$/.test(o.ino) &&
    Number.isSafeInteger(o.offset) &&
    (o.offset as number) >= 0 &&
    typeof o.skipping === 'boolean' &&
    Number.isSafeInteger(o.headLen) &&
    (o.headLen as number) >= 0 &&
    typeof o.headHash === 'string'
  if (!ok) return undefined
  return {
    dev: o.dev as string,
    ino: o.ino as string,
    offset: o.offset as number,
    skipping: o.skipping as boolean,
    headLen: o.headLen as number,
    headHash: o.headHash as string,
  }
}
