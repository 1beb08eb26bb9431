import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../../store/open-store.ts'
import { createHash } from 'node:crypto'
import { decodeWeights, encodeWeights } from '../codec/weights-codec.ts'
import { ModelRegistry, type ModelRegistryInit, type NewModelVersion } from './model-registry.ts'

/** a content id for test weights (the registry only needs 64 hex digits that follow the weights) */
function idOf(tensors: Float32Array[]): string {
  const h = createHash('sha256')
  for (const t of tensors) h.update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength))
  return h.digest('hex')
}
const SHAPES = [[3, 2], [2]]

const dirs: string[] = []
const stores: Store[] = []
afterEach(async () => {
  for (const db of stores.splice(0)) await db.close()
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function openRegistry(dir?: string, init?: Partial<ModelRegistryInit>) {
  dir ??= await mkdtemp(join(tmpdir(), 'shieldwall-registry-'))
  if (!dirs.includes(dir)) dirs.push(dir)
  const db = await openStore(dir)
  stores.push(db)
  const registry = new ModelRegistry(db, init)
  await registry.open()
  return { registry, dir }
}

function version(n: number, overrides: Partial<NewModelVersion> = {}): NewModelVersion {
  const tensors = [Float32Array.from({ length: 6 }, (_, i) => n + i / 10), Float32Array.from([n, -n])]
  return {
    id: idOf(tensors),
    parent: null,
    round: n,
    metrics: { accuracy: 0.9, f1: 0.8 },
    createdAt: 1000 + n,
    source: n === 0 ? 'initial' : 'federated',
    weights: encodeWeights(tensors, SHAPES, 'f32'),
    ...overrides,
  }
}

describe('ModelRegistry', () => {
  it('stores versions with their weights, lists them newest first without weights', async () => {
    const { registry } = await openRegistry()
    const v0 = version(0)
    const v1 = version(1, { parent: v0.id, gate: { decision: 'accept', reason: 'f1 +0.02' } })
    await registry.put(v0)
    await registry.put(v1)
    const got = await registry.get(v1.id)
    expect(got).toMatchObject({ id: v1.id, parent: v0.id, source: 'federated', gate: { decision: 'accept' } })
    expect(decodeWeights(got!.weights)).toEqual(decodeWeights(v1.weights))
    expect(idOf(decodeWeights(got!.weights))).toBe(v1.id)
    const list = await registry.list()
    expect(list.map((v) => v.id)).toEqual([v1.id, v0.id])
    expect(list[0]).not.toHaveProperty('weights')
    expect(await registry.get('f'.repeat(64))).toBeUndefined()
    expect(await registry.current()).toBeUndefined()
  })

  it('storing the same id twice keeps the first', async () => {
    const { registry } = await openRegistry()
    await registry.put(version(1))
    await registry.put(version(1, { round: 99 }))
    expect((await registry.get(version(1).id))?.round).toBe(1)
    expect(await registry.list()).toHaveLength(1)
  })

  it('adopts, refuses gate-rejected versions, rolls back, and records it all across a restart', async () => {
    const { registry, dir } = await openRegistry()
    const [v0, v1, v2] = [
      version(0),
      version(1),
      version(2, { gate: { decision: 'reject', reason: 'f1 -0.1' } }),
    ]
    for (const v of [v0, v1, v2]) await registry.put(v)
    await registry.adopt(v0.id, 5000)
    await registry.adopt(v1.id, 6000)
    await expect(registry.adopt(v2.id)).rejects.toMatchObject({ name: 'ModelGateRejectedError' })
    await expect(registry.adopt('e'.repeat(64))).rejects.toMatchObject({ name: 'ModelNotFoundError' })
    await expect(registry.rollback(v1.id)).rejects.toMatchObject({ name: 'InvalidRollbackError' })
    await expect(registry.rollback(v2.id)).rejects.toMatchObject({ name: 'InvalidRollbackError' })
    const back = await registry.rollback(v0.id, 7000)
    expect(back.adoptedAt).toBe(7000)
    expect((await registry.current())?.id).toBe(v0.id)
    await stores.pop()!.close()

    const { registry: reopened } = await openRegistry(dir)
    expect(reopened.currentId).toBe(v0.id)
    expect(await reopened.adoptions()).toEqual([
      { id: v0.id, at: 5000, kind: 'adopt', previous: null },
      { id: v1.id, at: 6000, kind: 'adopt', previous: v0.id },
      { id: v0.id, at: 7000, kind: 'rollback', previous: v1.id },
    ])
    await reopened.put(version(3))
    expect((await reopened.list())[0].id).toBe(version(3).id) // sequence continues after the restart
  })

  it('records a later gate verdict', async () => {
    const { registry } = await openRegistry()
    const v = version(4)
    await registry.put(v)
    await registry.recordGate(v.id, { decision: 'reject', reason: 'worse on holdout' })
    await expect(registry.adopt(v.id)).rejects.toMatchObject({ name: 'ModelGateRejectedError' })
  })

  it('keeps only the newest N plus the current and recently adopted versions', async () => {
    const { registry } = await openRegistry(undefined, { retain: 3, retainAdopted: 2 })
    const vs = Array.from({ length: 10 }, (_, i) => version(i))
    await registry.put(vs[0])
    await registry.adopt(vs[0].id)
    await registry.put(vs[1])
    await registry.adopt(vs[1].id)
    await registry.put(vs[2])
    await registry.adopt(vs[2].id)
    for (const v of vs.slice(3)) await registry.put(v)
    const ids = (await registry.list()).map((v) => v.id)
    // newest 3 (9, 8, 7), current (2) and the previous adopted one (1); 0 was adopted too long ago
    expect(ids).toEqual([vs[9], vs[8], vs[7], vs[2], vs[1]].map((v) => v.id))
    expect(await registry.get(vs[0].id)).toBeUndefined()
    await registry.rollback(vs[1].id)
    expect(registry.currentId).toBe(vs[1].id)
  })

  it('refuses malformed versions with named errors', async () => {
    const { registry } = await openRegistry()
    const invalid = { name: 'InvalidModelVersionError' }
    await expect(registry.put(version(1, { id: 'abc' }))).rejects.toMatchObject(invalid)
    await expect(registry.put(version(1, { source: 'gossip' as 'local' }))).rejects.toMatchObject(invalid)
    await expect(registry.put(version(1, { metrics: { f1: NaN } }))).rejects.toMatchObject(invalid)
    const w = version(1).weights
    await expect(registry.put(version(1, { weights: { ...w, shapes: [[3, 2]] } }))).rejects.toMatchObject({
      name: 'ShapeMismatchError',
    })
    expect(await registry.list()).toEqual([])
  })
})
