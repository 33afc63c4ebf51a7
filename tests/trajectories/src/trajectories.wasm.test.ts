import { trajectorySuite } from './backend-suite.js';

trajectorySuite('wasm', 'wasm');
