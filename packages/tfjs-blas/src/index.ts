// @fidkd/tfjs-blas: optional native OpenBLAS / C kernels for the tfjs cpu backend.
// Importing this module does not load the addon; registerBlasKernels (or isBlasAvailable / blasInfo) does.
export { BlasUnavailableError, benchSgemm, blasInfo, isBlasAvailable } from './addon.js';
export type { BlasInfo } from './addon.js';
export { BLAS_KERNELS, FUSED_KERNEL_NAMES, registerBlasKernels, registeredBlasKernels, unregisterBlasKernels } from './register.js';
export type { RegisterBlasOptions } from './register.js';
