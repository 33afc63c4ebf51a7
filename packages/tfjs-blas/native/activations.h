/* Activation formulas shared by the unary kernels (elementwise.c) and the fused-matmul epilogue (gemm.c), so that
 * both agree with each other and with tfjs's stock kernels. NaN propagates: comparisons with NaN are false. */
#ifndef FIDKD_ACTIVATIONS_H
#define FIDKD_ACTIVATIONS_H
#include <math.h>

static inline float fidkd_relu(float x) { return x < 0.0f ? 0.0f : x; }
static inline float fidkd_relu6(float x) { return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x); }
static inline float fidkd_elu(float x) { return x >= 0.0f ? x : expf(x) - 1.0f; }
/* Also PReLU, with the per-element weight as alpha. */
static inline float fidkd_leaky_relu(float x, float alpha) { return x < 0.0f ? alpha * x : x; }
static inline float fidkd_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
#endif
