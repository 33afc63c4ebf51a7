/* A tiny persistent thread pool: parallel_for over [0, n) split into one contiguous chunk per thread. */
#ifndef FIDKD_POOL_H
#define FIDKD_POOL_H
#include <stddef.h>

typedef void (*fidkd_range_fn)(void *ctx, size_t begin, size_t end);

/* Number of threads used by parallel_for (the caller counts as one). */
int fidkd_pool_threads(void);
/* Sets the thread count (1 disables the pool). Must not be called while a parallel_for runs. */
void fidkd_pool_set_threads(int n);
/* Runs fn over [0, n); runs inline when n < min_parallel or the pool has one thread. */
void fidkd_parallel_for(size_t n, size_t min_parallel, fidkd_range_fn fn, void *ctx);

#endif
