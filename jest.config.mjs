// One jest run over every workspace, against `src` (no build needed): @swc/jest strips types and keeps ESM.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
  },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^@fidkd/(core|tokenization|fid-reader|bi-encoder|losses|faiss-index|data|eval|orchestrator|tfjs-blas)$':
      '<rootDir>/packages/$1/src/index.ts',
  },
  testMatch: ['<rootDir>/{packages,apps,benchmarks,tests}/*/src/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 120000,
};
