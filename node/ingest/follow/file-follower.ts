import { watch, type FSWatcher } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import {
  HEAD_BYTES,
  findRotated,
  hashHead,
  isMissing,
  isRecordedFile,
  lineStartNearEnd,
  openRegular,
  readHead,
  NotARegularFileError,
  type OpenedFile,
} from './file-identity.ts'
import { LineSplitter } from './line-splitter.ts'
import type { FileOffset, OffsetStore } from './offset-store.ts'
import { stripUndefined } from '../../service-init.ts'

export interface FileFollowerInit {
  /** the file to follow; relative paths are resolved against the working directory once */
  path: string
  /** how often the file is checked when fs.watch is silent (it misses events on NFS, some containers, ...) */
  pollIntervalMs: number
  /** where to begin in a file that has no stored offset and exists when following starts */
  startAt: 'end' | 'beginning'
  /** a longer line is cut here, counted, and the rest of it up to its newline skipped */
  maxLineBytes: number
  /** bytes per read, and so the most lines handed over in one batch is about this over the line length */
  readChunkBytes: number
  encoding: 'utf8'
  /** ceiling of the retry backoff after errors (which starts at the poll interval and doubles) */
  maxBackoffMs: number
}

/** The subset of pino's Logger used here. */
export interface FollowLogger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
  child(bindings: Record<string, unknown>): FollowLogger
}

export interface FileFollowerComponents {
  offsets: OffsetStore
  logger?: FollowLogger
}

export interface LinesMeta {
  /** the followed path (also for lines read from a rotated-away file) */
  path: string
  /** where reading resumes after this batch: what is stored once the callback resolves */
  offset: number
  /**
   * The whole record stored once the callback resolves. A consumer that keeps its results in the same store
   * can write it in their batch (`OffsetStore.putOp`), so that a crash leaves both or neither: the follower's
   * own write afterwards then only repeats it.
   */
  record: FileOffset
}

export type OnLines = (lines: string[], meta: LinesMeta) => void | Promise<void>

export interface FileFollowerStats {
  /** lines delivered (callback resolved) */
  linesRead: number
  bytesRead: number
  rotations: number
  truncations: number
  longLines: number
  errors: number
}

export class InvalidFileFollowerInitError extends Error {
  override name = 'InvalidFileFollowerInitError'
}

export class FileFollowerStateError extends Error {
  override name = 'FileFollowerStateError'
}

const DEFAULTS: Omit<FileFollowerInit, 'path'> = {
  pollIntervalMs: 250,
  startAt: 'end',
  maxLineBytes: 64 * 1024,
  readChunkBytes: 1024 * 1024,
  encoding: 'utf8',
  maxBackoffMs: 30_000,
}

/** After fs.watch fails (inotify limit, directory missing) it is tried again this much later. */
const WATCH_RETRY_MS = 5_000

const NOOP_LOGGER: FollowLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => NOOP_LOGGER,
}

/**
 * Follows one log file the way `tail -F` does, but never delivers a line twice or loses one: the offset of the
 * first undelivered line is stored after every delivered batch, together with the file's identity (dev/ino and
 * a hash of its first bytes), so a restart resumes exactly, even when the file was rotated in between.
 *
 * Rotation by rename shows as the path naming another inode: the old file is read to its end through the
 * descriptor still open (the writer may not have reopened yet, so it must stay quiet for a poll interval), then
 * the new one from its start. Truncation in place (copytruncate) shows as the file being shorter than the read
 * position, or its first bytes changing: reading restarts at 0.
 */
export class FileFollower {
  readonly path: string
  readonly #init: FileFollowerInit
  readonly #offsets: OffsetStore
  readonly #log: FollowLogger
  readonly #splitter: LineSplitter
  readonly #stats: FileFollowerStats = {
    linesRead: 0,
    bytesRead: 0,
    rotations: 0,
    truncations: 0,
    longLines: 0,
    errors: 0,
  }
  #buf?: Buffer

  #onLines?: OnLines
  #started = false
  #stopping = false
  #running = false
  #again = false
  #loop: Promise<void> = Promise.resolve()
  #timer?: NodeJS.Timeout
  #watcher?: FSWatcher
  #watchRetryAt = 0
  #positioned?: () => void
  #stopped?: Promise<void>

  #file?: OpenedFile
  /** the first bytes of the open file as far as they are known (up to HEAD_BYTES), for its fingerprint */
  #head: Buffer = Buffer.alloc(0)
  #headHash?: string
  #readPos = 0
  /** what the consumer has: reading resumes here after an error */
  #delivered = { offset: 0, skipping: false }
  #dirty = false
  /** the start position of this run has been decided (resumed, started fresh, or found rotated) */
  #resolved = false
  /** the path was missing when following started, so whatever appears there later is read from its start */
  #sawMissing = false
  #searchedWhileMissing = false
  #missingLogged = false
  /** set while the path names another file than the one open: since when the old one has not grown */
  #rotationQuietSince?: number
  #failures = 0
  #retryAt = 0
  #lastErrorKey?: string

  constructor(init: FileFollowerInit, components: FileFollowerComponents) {
    if (init.path === '') throw new InvalidFileFollowerInitError('path is required')
    for (const k of ['pollIntervalMs', 'maxLineBytes', 'readChunkBytes', 'maxBackoffMs'] as const) {
      if (!Number.isSafeInteger(init[k]) || init[k] <= 0) {
        throw new InvalidFileFollowerInitError(`${k} must be a positive integer, got ${init[k]}`)
      }
    }
    if (init.startAt !== 'end' && init.startAt !== 'beginning') {
      throw new InvalidFileFollowerInitError(
        `startAt must be 'end' or 'beginning', got ${String(init.startAt)}`,
      )
    }
    if (init.encoding !== 'utf8')
      throw new InvalidFileFollowerInitError(`unsupported encoding ${init.encoding}`)
    this.#init = init
    this.path = resolve(init.path)
    this.#offsets = components.offsets
    this.#log = (components.logger ?? NOOP_LOGGER).child({ component: 'file-follower', path: this.path })
    this.#splitter = new LineSplitter(init.maxLineBytes)
  }

  /**
   * Resolves once the starting position is decided (so lines appended afterwards are delivered even with
   * `startAt: 'end'`); lines then arrive through `onLines`, one batch at a time: the next read waits for the
   * returned promise. A rejected promise is counted as an error and the batch is delivered again later.
   */
  async start(onLines: OnLines): Promise<void> {
    if (this.#started) throw new FileFollowerStateError(`already following ${this.path}`)
    this.#started = true
    this.#stopping = false
    this.#onLines = onLines
    this.#ensureWatcher()
    const positioned = new Promise<void>((r) => (this.#positioned = r))
    this.#kick()
    await positioned
  }

  /** Waits for a batch being delivered and its offset to be stored; a partial last line stays unread. */
  stop(): Promise<void> {
    if (!this.#started) return Promise.resolve()
    this.#stopped ??= this.#stop().finally(() => (this.#stopped = undefined))
    return this.#stopped
  }

  async #stop(): Promise<void> {
    this.#stopping = true
    clearTimeout(this.#timer)
    this.#watcher?.close()
    this.#watcher = undefined
    await this.#loop
    if (this.#dirty) await this.#save().catch((err) => this.#log.warn({ err }, 'could not store the offset'))
    await this.#file?.fh.close().catch(() => undefined)
    this.#file = undefined
    this.#resolved = false
    this.#sawMissing = false
    this.#searchedWhileMissing = false
    this.#missingLogged = false
    this.#rotationQuietSince = undefined
    this.#failures = 0
    this.#retryAt = 0
    this.#lastErrorKey = undefined
    this.#buf = undefined
    this.#started = false
  }

  stats(): FileFollowerStats {
    return { ...this.#stats }
  }

  #kick(): void {
    if (!this.#started || this.#stopping) return
    if (this.#running) {
      this.#again = true
      return
    }
    this.#running = true
    clearTimeout(this.#timer)
    this.#loop = this.#run()
  }

  async #run(): Promise<void> {
    try {
      do {
        this.#again = false
        await this.#cycle()
      } while (this.#again && !this.#stopping)
    } finally {
      this.#running = false
      if (!this.#stopping) {
        const delay = Math.max(this.#retryAt - Date.now(), this.#init.pollIntervalMs)
        this.#timer = setTimeout(() => {
          this.#ensureWatcher()
          this.#kick()
        }, delay).unref()
      }
    }
  }

  async #cycle(): Promise<void> {
    if (Date.now() < this.#retryAt) return
    try {
      if (this.#dirty) await this.#save()
      if (this.#file === undefined) await this.#open()
      this.#donePositioning()
      if (this.#file !== undefined) {
        const grew = await this.#drain()
        if (this.#stopping) return
        await this.#checkPath(grew)
      }
      if (this.#failures > 0) this.#log.info({ after: this.#failures }, 'following again')
      this.#failures = 0
      this.#lastErrorKey = undefined
    } catch (err) {
      this.#failed(err)
    } finally {
      this.#donePositioning()
    }
  }

  #donePositioning(): void {
    this.#positioned?.()
    this.#positioned = undefined
  }

  #failed(err: unknown): void {
    this.#stats.errors++
    this.#failures++
    const backoff = Math.min(this.#init.pollIntervalMs * 2 ** this.#failures, this.#init.maxBackoffMs)
    this.#retryAt = Date.now() + backoff
    const e = err as NodeJS.ErrnoException
    const key = `${e?.name}:${e?.code ?? e?.message}`
    // the first occurrence of a problem is worth a warning, its repetitions every few seconds are not
    if (key !== this.#lastErrorKey) this.#log.warn({ err, retryInMs: backoff }, 'cannot follow the file')
    else this.#log.debug({ err, retryInMs: backoff }, 'still cannot follow the file')
    this.#lastErrorKey = key
    if (this.#file !== undefined) {
      // undelivered lines are read again from where the consumer is
      this.#readPos = this.#delivered.offset
      this.#splitter.reset(this.#delivered.offset, this.#delivered.skipping)
    }
  }

  /** Decides where this run starts, or (once decided) opens a file that appeared or replaced a rotated one. */
  async #open(): Promise<void> {
    if (this.#resolved) {
      const file = await openRegular(this.path)
      if (file === undefined) return this.#noteMissing()
      this.#missingLogged = false
      return this.#use(file, 0, false, true)
    }
    const rec = await this.#offsets.get(this.path)
    let file: OpenedFile | undefined
    try {
      file = await openRegular(this.path)
    } catch (err) {
      // not a file yet (a directory in its place): whatever file appears there later is new
      if (err instanceof NotARegularFileError) this.#sawMissing = true
      throw err
    }
    try {
      if (rec === undefined) {
        if (file === undefined) {
          this.#sawMissing = true
          return this.#noteMissing()
        }
        const at =
          this.#sawMissing || this.#init.startAt === 'beginning'
            ? { offset: 0, skipping: false }
            : await lineStartNearEnd(file.fh, file.size, this.#init.maxLineBytes)
        this.#resolved = true
        return await this.#use(file, at.offset, at.skipping, true)
      }
      if (file !== undefined && file.size >= rec.offset && (await isRecordedFile(file, rec))) {
        this.#resolved = true
        this.#log.debug({ offset: rec.offset }, 'resuming')
        return await this.#use(file, rec.offset, rec.skipping, false)
      }
      // The path names another file now, or nothing: rotated (or truncated) while we were not following.
      if (file !== undefined || !this.#searchedWhileMissing) {
        this.#searchedWhileMissing = file === undefined
        const old = await findRotated(this.path, rec)
        if (old !== undefined) {
          await file?.fh.close()
          this.#resolved = true
          this.#log.info(
            { rotated: old.name, offset: rec.offset },
            'rotated while stopped: finishing the old file',
          )
          return await this.#use(old, rec.offset, rec.skipping, false)
        }
      }
      if (file === undefined) return this.#noteMissing()
      const sameInode = file.dev === rec.dev && file.ino === rec.ino
      if (sameInode) this.#stats.truncations++
      else this.#stats.rotations++
      this.#log.warn(
        { offset: rec.offset },
        sameInode
          ? 'truncated while stopped: reading from the start'
          : 'rotated while stopped and the old file was not found: reading the new one from the start',
      )
      this.#resolved = true
      return await this.#use(file, 0, false, true)
    } catch (err) {
      if (this.#file !== file) await file?.fh.close().catch(() => undefined)
      throw err
    }
  }

  async #use(file: OpenedFile, offset: number, skipping: boolean, save: boolean): Promise<void> {
    let head: Buffer
    try {
      head = await readHead(file.fh, Math.min(HEAD_BYTES, offset))
    } catch (err) {
      await file.fh.close().catch(() => undefined)
      throw err
    }
    if (this.#file !== undefined && this.#file !== file) await this.#file.fh.close().catch(() => undefined)
    this.#head = head
    this.#headHash = undefined
    this.#file = file
    this.#readPos = offset
    this.#splitter.reset(offset, skipping)
    this.#delivered = { offset, skipping }
    this.#rotationQuietSince = undefined
    if (save) await this.#save()
  }

  #noteMissing(): void {
    if (this.#missingLogged) return
    this.#missingLogged = true
    this.#log.info({}, 'the file does not exist (yet): waiting for it')
  }

  /** Reads the open file to its current end, delivering complete lines; returns how many bytes it read. */
  async #drain(): Promise<number> {
    const file = this.#file!
    const size = Number((await file.fh.stat({ bigint: true })).size)
    if (size < this.#readPos || (size > this.#readPos && !(await this.#headUnchanged(file)))) {
      this.#stats.truncations++
      this.#log.info({ size, offset: this.#readPos }, 'truncated: reading from the start')
      await this.#use(file, 0, false, true)
    }
    this.#buf ??= Buffer.allocUnsafe(this.#init.readChunkBytes)
    const buf = this.#buf
    let total = 0
    while (!this.#stopping) {
      const { bytesRead } = await file.fh.read(buf, 0, buf.length, this.#readPos)
      if (bytesRead === 0) break
      const chunk = buf.subarray(0, bytesRead)
      this.#noteHead(chunk, this.#readPos)
      this.#readPos += bytesRead
      this.#stats.bytesRead += bytesRead
      total += bytesRead
      const lines: string[] = []
      const cutBefore = this.#splitter.cutLines
      this.#splitter.push(chunk, lines)
      await this.#deliver(lines, this.#splitter.cutLines - cutBefore)
      if (bytesRead < buf.length) break
    }
    return total
  }

  async #deliver(lines: string[], cut: number): Promise<void> {
    const offset = this.#splitter.safeOffset
    const skipping = this.#splitter.skipping
    if (lines.length > 0) {
      await this.#onLines!(lines, { path: this.path, offset, record: this.#record(offset, skipping) })
      this.#stats.linesRead += lines.length
      this.#stats.longLines += cut
    }
    if (offset === this.#delivered.offset && skipping === this.#delivered.skipping) return
    this.#delivered = { offset, skipping }
    await this.#save()
  }

  async #save(): Promise<void> {
    if (this.#file === undefined) return
    const rec = this.#record(this.#delivered.offset, this.#delivered.skipping)
    this.#dirty = true
    await this.#offsets.put(this.path, rec)
    this.#dirty = false
  }

  /** The stored form of a position in the open file. */
  #record(offset: number, skipping: boolean): FileOffset {
    const file = this.#file!
    this.#headHash ??= hashHead(this.#head)
    return {
      dev: file.dev,
      ino: file.ino,
      offset,
      skipping,
      headLen: this.#head.length,
      headHash: this.#headHash,
    }
  }

  #noteHead(chunk: Buffer, at: number): void {
    if (at >= HEAD_BYTES || at !== this.#head.length) return
    this.#head = Buffer.concat([this.#head, chunk.subarray(0, HEAD_BYTES - at)])
    this.#headHash = undefined
  }

  /** Catches a truncate-and-rewrite that outgrew the old size between two looks. */
  async #headUnchanged(file: OpenedFile): Promise<boolean> {
    if (this.#head.length === 0) return true
    return (await readHead(file.fh, this.#head.length)).equals(this.#head)
  }

  /** At the end of the open file: has the path moved on to another file? */
  async #checkPath(grew: number): Promise<void> {
    const file = this.#file!
    let st
    try {
      st = await stat(this.path, { bigint: true })
    } catch (err) {
      if (!isMissing(err)) throw err
    }
    if (st !== undefined && String(st.dev) === file.dev && String(st.ino) === file.ino) {
      this.#missingLogged = false
      this.#rotationQuietSince = undefined
      return
    }
    const now = Date.now()
    if (this.#rotationQuietSince === undefined) {
      this.#rotationQuietSince = now
      this.#log.info({}, 'rotated: finishing the old file first')
    } else if (grew > 0) {
      this.#rotationQuietSince = now
    }
    if (st === undefined) {
      this.#noteMissing()
      // renamed away and not yet replaced: the writer may still append to it, keep reading
      if ((await file.fh.stat()).nlink > 0) return
    }
    if (now - this.#rotationQuietSince < this.#init.pollIntervalMs) return
    if ((await this.#drain()) > 0) {
      this.#rotationQuietSince = Date.now()
      return
    }
    // Nobody writes to it any more: its unterminated last line is the last it will ever have.
    const lines: string[] = []
    this.#splitter.flush(lines)
    await this.#deliver(lines, 0)
    this.#stats.rotations++
    await file.fh.close().catch(() => undefined)
    this.#file = undefined
    this.#rotationQuietSince = undefined
    this.#log.info({ from: file.name }, 'rotated: following the new file')
    await this.#open()
  }

  #ensureWatcher(): void {
    if (this.#watcher !== undefined || this.#stopping || Date.now() < this.#watchRetryAt) return
    const base = basename(this.path)
    try {
      // The directory, not the file: a watch on the file follows its inode into the rotated name.
      const w = watch(dirname(this.path), { persistent: false }, (_event, name) => {
        if (name === null || name.startsWith(base)) this.#kick()
      })
      w.on('error', () => {
        w.close()
        if (this.#watcher === w) this.#watcher = undefined
        this.#watchRetryAt = Date.now() + WATCH_RETRY_MS
      })
      this.#watcher = w
    } catch (err) {
      this.#watchRetryAt = Date.now() + WATCH_RETRY_MS
      this.#log.debug({ err }, 'fs.watch unavailable: polling only')
    }
  }
}

export function fileFollower(
  init: Partial<FileFollowerInit> = {},
): (components: FileFollowerComponents) => FileFollower {
  const merged: FileFollowerInit = { path: '', ...DEFAULTS, ...stripUndefined(init) }
  return (components) => new FileFollower(merged, components)
}
