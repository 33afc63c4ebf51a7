/* Persistent worker threads woken by a generation counter. Work is cut into a few chunks per thread that
 * the calling (JS) thread and the workers take from a shared counter: when a worker is slow to be scheduled
 * (a busy machine), the caller does its share instead of waiting for it. Workers sleep on a condition
 * variable between tasks, so an idle pool costs nothing. */
#include "pool.h"
#include <pthread.h>
#include <unistd.h>

#define MAX_THREADS 64
#define CHUNKS_PER_THREAD 4

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
/* Held by the one caller that owns the pool; a concurrent caller (another worker_thread) runs inline. */
static pthread_mutex_t owner = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static int nthreads = 0; /* including the caller */
static int nworkers_started = 0;
static unsigned long generation = 0;
/* The current task; fields are read and the counters changed only under mu. */
static fidkd_range_fn task_fn;
static void *task_ctx;
static size_t task_n;
static size_t task_chunks;
static size_t next_chunk;
static int active; /* chunks being run by workers */

static void chunk_bounds(size_t n, size_t chunks, size_t i, size_t *b, size_t *e) {
  size_t per = n / chunks, rem = n % chunks;
  *b = i * per + (i < rem ? i : rem);
  *e = *b + per + (i < rem ? 1 : 0);
}

static void *worker(void *arg) {
  (void)arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&mu);
  for (;;) {
    while (generation == seen) pthread_cond_wait(&wake, &mu);
    seen = generation;
    while (next_chunk < task_chunks) {
      size_t c = next_chunk++;
      fidkd_range_fn fn = task_fn;
      void *ctx = task_ctx;
      size_t n = task_n, chunks = task_chunks;
      active++;
      pthread_mutex_unlock(&mu);
      size_t b, e;
      chunk_bounds(n, chunks, c, &b, &e);
      if (b < e) fn(ctx, b, e);
      pthread_mutex_lock(&mu);
      if (--active == 0) pthread_cond_signal(&done);
    }
  }
  return NULL;
}

static void ensure_init(void) {
  if (nthreads > 0) return;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  fidkd_pool_set_threads(cpus > 0 ? (int)cpus : 1);
}

int fidkd_pool_threads(void) {
  ensure_init();
  return nthreads;
}

void fidkd_pool_set_threads(int n) {
  if (n < 1) n = 1;
  if (n > MAX_THREADS) n = MAX_THREADS;
  pthread_mutex_lock(&mu);
  nthreads = n;
  /* Workers are started lazily and never stopped; surplus ones find no chunk left. */
  while (nworkers_started < n - 1) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, worker, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
      nthreads = nworkers_started + 1;
      break;
    }
    nworkers_started++;
  }
  pthread_mutex_unlock(&mu);
}

void fidkd_parallel_for(size_t n, size_t min_parallel, fidkd_range_fn fn, void *ctx) {
  ensure_init();
  size_t chunks = (size_t)nthreads * CHUNKS_PER_THREAD;
  if (chunks > n) chunks = n;
  if (nthreads <= 1 || chunks <= 1 || n < min_parallel || pthread_mutex_trylock(&owner) != 0) {
    if (n > 0) fn(ctx, 0, n);
    return;
  }
  pthread_mutex_lock(&mu);
  task_fn = fn;
  task_ctx = ctx;
  task_n = n;
  task_chunks = chunks;
  next_chunk = 0;
  active = 0;
  generation++;
  pthread_cond_broadcast(&wake);
  for (;;) {
    if (next_chunk < chunks) {
      size_t c = next_chunk++;
      pthread_mutex_unlock(&mu);
      size_t b, e;
      chunk_bounds(n, chunks, c, &b, &e);
      if (b < e) fn(ctx, b, e);
      pthread_mutex_lock(&mu);
    } else {
      while (active > 0) pthread_cond_wait(&done, &mu);
      break;
    }
  }
  /* No chunk left and none running: a late worker will find nothing to do for this task. */
  task_chunks = 0;
  next_chunk = 0;
  pthread_mutex_unlock(&mu);
  pthread_mutex_unlock(&owner);
}
