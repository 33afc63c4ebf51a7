import { trajectorySuite } from './backend-suite.js';

trajectorySuite('cpu-stock', "cpu-stock (tfjs's own cpu kernels)");
