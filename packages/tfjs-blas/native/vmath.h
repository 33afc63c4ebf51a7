/* Float32 maths written so that the compiler vectorises it (libm's expf / erff do not vectorise without
 * -ffast-math), shared by the fused kernels. */
#ifndef FIDKD_VMATH_H
#define FIDKD_VMATH_H
#include <math.h>
#include <stdint.h>

/* e^x in float32 for x <= 0 (softmax after the max shift), within ~2 ulp, written so that the compiler
 * vectorises it (libm's expf does not vectorise without -ffast-math): x = n·ln2 + r, |r| <= ln2/2, Cephes'
 * degree-6 polynomial for e^r, 2^n from the exponent bits. Exactly 0 below -87 (masked keys), as expf. */
static inline float exp_nonpos(float x) {
  const float n = nearbyintf(x * 1.44269504088896341f);
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  union { int32_t i; float f; } scale;
  scale.i = ((int32_t)n + 127) << 23;
  return x < -87.0f ? 0.0f : p * scale.f;
}

/* erf(x) by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7, the formula of tfjs's own Erf kernel):
 * 1 − t·(a1 + t·(a2 + …))·e^(−x²), t = 1/(1 + p·|x|), odd in x. */
static inline float erf_as(float x) {
  const float ax = fabsf(x);
  const float t = 1.0f / (1.0f + 0.3275911f * ax);
  float poly = 1.061405429f;
  poly = poly * t - 1.453152027f;
  poly = poly * t + 1.421413741f;
  poly = poly * t - 0.284496736f;
  poly = poly * t + 0.254829592f;
  const float y = 1.0f - poly * t * exp_nonpos(-ax * ax);
  return copysignf(y, x);
}
#endif
