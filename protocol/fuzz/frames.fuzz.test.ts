import { describe, it } from 'vitest'
import {
  alertSyncFrameTarget,
  modelSyncFrameTarget,
  modelUpdateWeightsTarget,
  noiseFrameLengthTarget,
  summaryIntakeTarget,
} from './targets.ts'
import { assertTarget, testPool } from './fuzz-settings.ts'

// Properties over the decode paths behind the envelopes and the unsigned sync frames. See docs/fuzzing.md.
describe('summary, model update and frame fuzzing', () => {
  it('the blocklist summary intake never crashes, accepts only sealed summaries, and never twice', () => {
    assertTarget(summaryIntakeTarget(testPool()), 80)
  })

  it('every model update body the schema accepts decodes as weights', () => {
    assertTarget(modelUpdateWeightsTarget(), 200)
  })

  it('alert catch-up frames: only MalformedSyncMessageError, valid frames round-trip, page alerts judged safely', () => {
    assertTarget(alertSyncFrameTarget(testPool()), 100)
  })

  it('model sync frames: only MalformedModelSyncMessageError, valid frames round-trip, weights load or fail by name', () => {
    assertTarget(modelSyncFrameTarget(), 120)
  })

  it('the Noise frame length reads two bytes big-endian and never throws', () => {
    assertTarget(noiseFrameLengthTarget(), 200)
  })
})
