/**
 * The model's identity for gossip, ledgers and "which model flagged this": SHA-256 over a canonical encoding, so
 * two nodes holding the same model compute the same hash whatever their platform. Encoding: the UTF-8 of a
 * JSON header with fixed key order, {"format","architecture":{"kind","inputDim","hidden"},"schema":{"name",
 * "version"}}, a 0x00 byte, then the standardiser mean and std and every weight array in order, each as
 * little-endian IEEE-754 float32 with -0 written as +0 (they score identically). Feature names are not hashed:
 * the schema name and version fix them.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { assertValidModel } from './mlp.ts'
import type { MlpModel } from './mlp.ts'

export const MODEL_HASH_FORMAT = 'shieldwall-mlp/1'

export function canonicalModelBytes(model: MlpModel): Uint8Array {
  assertValidModel(model)
  const { architecture: a, schema: s } = model
  const header = utf8ToBytes(
    JSON.stringify({
      format: MODEL_HASH_FORMAT,
      architecture: { kind: a.kind, inputDim: a.inputDim, hidden: [...a.hidden] },
      schema: { name: s.name, version: s.version },
    }),
  )
  const arrays = [model.standardizer.mean, model.standardizer.std, ...model.weights]
  const floats = arrays.reduce((n, w) => n + w.length, 0)
  const out = new Uint8Array(header.length + 1 + 4 * floats)
  out.set(header, 0)
  const view = new DataView(out.buffer)
  let o = header.length + 1
  for (const w of arrays) {
    for (let i = 0; i < w.length; i++, o += 4) view.setFloat32(o, w[i] === 0 ? 0 : w[i], true)
  }
  return out
}

/** lowercase hex SHA-256 of `canonicalModelBytes` */
export function modelHash(model: MlpModel): string {
  return bytesToHex(sha256(canonicalModelBytes(model)))
}
