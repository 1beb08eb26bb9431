import type { SimNetwork } from './network.ts'
import type { LearningSpec } from './scenarios/scenario-spec.ts'

export interface LearningRound {
  round: number
  accuracy: number
  epsilon: number
}

/**
 * TODO-by-integrator: run `spec.rounds` federated-learning rounds over the simulated members (hostile members
 * send poisoned updates) and return the global model's accuracy and the cumulative epsilon after each round.
 * Until then the fl-poisoning scenario reports no rounds and its learning assertions are skipped.
 */
export async function runLearningRounds(_network: SimNetwork, _spec: LearningSpec): Promise<LearningRound[]> {
  return []
}
