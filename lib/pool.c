#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "alloc.h"

struct sbp__pool {
    unsigned n_workers; /* threads besides the caller */
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long generation;
    atomic_ulong posted; /* mirror of generation readable without the lock */
    atomic_int resting;  /* sbp__pool_rest: stop polling until the next job */
    int quit;
    /* the current job */
    sbp__task_fn fn;
    void *ctx;
    size_t n_tasks, next_task, pending;
};

/* Takes tasks until none are left; returns with the mutex held. */
static void drain(sbp__pool *p)
{
    while (p->next_task < p->n_tasks) {
        size_t t = p->next_task++;
        pthread_mutex_unlock(&p->mu);
        p->fn(p->ctx, t);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_broadcast(&p->done);
    }
}

/* Engines post many short jobs (one per relaxation sweep), so a worker
 * polls for a new one for a few microseconds before it sleeps. */
#define SPIN_POLLS 4000

static void *worker(void *arg)
{
    sbp__pool *p = arg;
    unsigned long seen = 0;
    for (;;) {
        for (int i = 0; i < SPIN_POLLS &&
                        atomic_load_explicit(&p->posted, memory_order_acquire) == seen &&
                        !atomic_load_explicit(&p->resting, memory_order_relaxed);
             i++)
            sched_yield();
        pthread_mutex_lock(&p->mu);
        while (!p->quit && p->generation == seen) pthread_cond_wait(&p->go, &p->mu);
        if (p->quit) break;
        seen = p->generation;
        drain(p);
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

sbp__pool *sbp__pool_create(unsigned threads)
{
    sbp__pool *p = sbp__calloc(1, sizeof *p);
    if (!p) return NULL;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        sbp__free(p);
        return NULL;
    }
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    unsigned want = threads > 1 ? threads - 1 : 0;
    if (want) {
        p->threads = sbp__calloc(want, sizeof *p->threads);
        if (!p->threads) {
            sbp__pool_free(p);
            return NULL;
        }
        for (unsigned i = 0; i < want; i++) {
            if (pthread_create(&p->threads[i], NULL, worker, p) != 0) break;
            p->n_workers++;
        }
        if (p->n_workers != want) {
            sbp__pool_free(p);
            return NULL;
        }
    }
    return p;
}

void sbp__pool_free(sbp__pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    atomic_store_explicit(&p->posted, ~0ul, memory_order_release);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n_workers; i++) pthread_join(p->threads[i], NULL);
    sbp__free(p->threads);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    sbp__free(p);
}

unsigned sbp__pool_size(const sbp__pool *p)
{
    return p ? p->n_workers + 1 : 1;
}

void sbp__pool_run(sbp__pool *p, sbp__task_fn fn, void *ctx, size_t n_tasks)
{
    if (!p || p->n_workers == 0 || n_tasks <= 1) {
        for (size_t t = 0; t < n_tasks; t++) fn(ctx, t);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    p->next_task = 0;
    p->pending = n_tasks;
    p->generation++;
    atomic_store_explicit(&p->resting, 0, memory_order_relaxed);
    atomic_store_explicit(&p->posted, p->generation, memory_order_release);
    pthread_cond_broadcast(&p->go);
    drain(p);
    while (p->pending > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void sbp__pool_rest(sbp__pool *p)
{
    if (p && p->n_workers) atomic_store_explicit(&p->resting, 1, memory_order_relaxed);
}
