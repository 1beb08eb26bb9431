import { resolve } from 'node:path'
import {
  FileFollower,
  fileFollower,
  InvalidFileFollowerInitError,
  type FileFollowerComponents,
  type FileFollowerInit,
  type FileFollowerStats,
  type OnLines,
} from './file-follower.ts'

/** One followed file: its path plus any per-file overrides of the group defaults. */
export type FileSource = { path: string } & Partial<Omit<FileFollowerInit, 'path'>>

export interface FileFollowerGroupInit {
  sources: FileSource[]
  /** applied to every source that does not set the field itself */
  defaults: Partial<Omit<FileFollowerInit, 'path'>>
}

/** Several files at once, one follower each; their batches reach the same callback, each with its path. */
export class FileFollowerGroup {
  readonly followers: readonly FileFollower[]

  constructor(init: FileFollowerGroupInit, components: FileFollowerComponents) {
    const seen = new Set<string>()
    for (const s of init.sources) {
      // two followers on one path would deliver every line twice and fight over its stored offset
      const p = resolve(s.path)
      if (seen.has(p)) throw new InvalidFileFollowerInitError(`${p} is listed twice`)
      seen.add(p)
    }
    this.followers = init.sources.map((s) => fileFollower({ ...init.defaults, ...s })(components))
  }

  async start(onLines: OnLines): Promise<void> {
    await Promise.all(this.followers.map((f) => f.start(onLines)))
  }

  async stop(): Promise<void> {
    await Promise.all(this.followers.map((f) => f.stop()))
  }

  /** Per followed (absolute) path. */
  stats(): Record<string, FileFollowerStats> {
    return Object.fromEntries(this.followers.map((f) => [f.path, f.stats()]))
  }
}

export function fileFollowerGroup(
  init: Partial<FileFollowerGroupInit> = {},
): (components: FileFollowerComponents) => FileFollowerGroup {
  const merged: FileFollowerGroupInit = { sources: init.sources ?? [], defaults: init.defaults ?? {} }
  return (components) => new FileFollowerGroup(merged, components)
}
