import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['{node,protocol,crypto,sim,config,test}/**/*.test.ts'],
    // Multi-node tests start real libp2p hosts and level stores; give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: more parallel forks only make the network tests flaky.
    maxWorkers: 2,
  },
})
