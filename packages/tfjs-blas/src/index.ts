// @fidkd/tfjs-blas: Optional native OpenBLAS kernels for the tfjs cpu backend (BatchMatMul, _FusedMatMul, ...).
export {};
