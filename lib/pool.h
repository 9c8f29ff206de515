/* A small persistent thread pool for data-parallel loops. Work is cut
 * into tasks whose results do not depend on which thread runs them, so
 * the pool's size never changes a result (determinism across thread
 * counts). */
#ifndef SBP_POOL_H
#define SBP_POOL_H

#include <stddef.h>

typedef struct sbp__pool sbp__pool;

/* Runs fn(ctx, task) for task in [0, n_tasks). */
typedef void (*sbp__task_fn)(void *ctx, size_t task);

/* Creates a pool of `threads` workers in total (the caller counts as one,
 * so threads <= 1 creates no thread). NULL on failure. */
sbp__pool *sbp__pool_create(unsigned threads);
void sbp__pool_free(sbp__pool *pool);
unsigned sbp__pool_size(const sbp__pool *pool);
/* Runs all tasks and returns when they are done. pool may be NULL (runs
 * inline). */
void sbp__pool_run(sbp__pool *pool, sbp__task_fn fn, void *ctx, size_t n_tasks);

/* The end of the range of task `task` when tasks take `per_task` items of
 * `total` in order. */
static inline size_t sbp__task_end(size_t task, size_t per_task, size_t total)
{
    size_t end = (task + 1) * per_task;
    return end < total ? end : total;
}

/* The caller is about to run work that has threads of its own (a BLAS
 * call): idle workers stop polling for the next job and sleep until it is
 * posted, leaving the cores to that work. pool may be NULL. */
void sbp__pool_rest(sbp__pool *pool);

#endif
