import { trajectorySuite } from './backend-suite.js';

trajectorySuite('cpu', 'blas (the cpu backend with the fused kernels of @fidkd/tfjs-blas)');
