/* budget: the memory the requests in flight may use, shared out first come, first served
 * (SPEC §3: under load a well-formed review waits its turn, it is never shed).
 *
 * Each request is charged, before its body is read, what working on it will take (server.c:
 * a measured multiple of its body's size). A charge that fits is granted at once; one that
 * does not joins a queue and is granted, in arrival order, as earlier requests release theirs.
 * A charge larger than the whole budget is cut to the budget: such a request runs alone. A
 * waiting request whose deadline passes is expired instead (its caller answers 503): a thread
 * of this module watches the earliest deadline, so the answer comes at the deadline, not at
 * the next release.
 *
 * The caller learns of a grant or an expiry through wake(ctx), called exactly once per
 * queued ticket, on any thread, with no lock of this module held. The caller may be told
 * before it has finished going to sleep: budget_acquire marks the ticket "parking", and
 * budget_parked() tells whether the wake came meanwhile (then the caller wakes itself).
 *
 * Ownership: the budget owns its thread and queue; tickets are the caller's (embedded in its
 * request state) and must stay valid until budget_release. */
#ifndef COCO_BUDGET_H
#define COCO_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

typedef enum budget_state {
    BUDGET_IDLE,    /* nothing asked, or released */
    BUDGET_WAITING, /* queued */
    BUDGET_GRANTED, /* charge held until budget_release */
    BUDGET_EXPIRED, /* the deadline passed while queued: nothing held */
} budget_state;

typedef struct budget_ticket {
    struct budget_ticket *next; /* the queue, oldest first */
    size_t charge;
    uint64_t deadline_ns; /* CLOCK_MONOTONIC */
    void (*wake)(void *ctx);
    void *ctx;
    budget_state state;
    bool parking; /* queued, and the caller has not yet gone to sleep */
    bool woken;   /* a wake came while parking */
} budget_ticket;

typedef struct budget budget;

/* Returns an owned budget of total bytes (its thread started), or fails with CW_ENOMEM. */
CW_MUST_USE cw_result budget_new(size_t total, budget **out);

/* Stops the thread; no wake is called afterwards (releases still give memory back, queued
 * tickets stay queued until released). Idempotent. */
void budget_stop_waking(budget *b);

/* budget_stop_waking, then frees b. No ticket may be used with b afterwards. */
void budget_free(budget *b);

size_t budget_total(const budget *b);
/* Bytes granted now (metrics, tests). */
size_t budget_in_use(budget *b);
/* Requests queued now. */
size_t budget_waiting(budget *b);

/* Asks for charge bytes (cut to the total) until deadline_ns. Returns true when granted at
 * once (t->state GRANTED); false when queued (t->state WAITING, t->parking set): the caller
 * goes to sleep and then calls budget_parked. */
bool budget_acquire(budget *b, budget_ticket *t, size_t charge, uint64_t deadline_ns,
                    void (*wake)(void *ctx), void *ctx);

/* After going to sleep: clears t->parking. True when the ticket was granted or expired
 * meanwhile: wake() was not called, and the caller must wake itself. */
bool budget_parked(budget *b, budget_ticket *t);

/* Gives back a grant, or leaves the queue; the tickets that now fit are granted. Any state;
 * the ticket is IDLE afterwards. */
void budget_release(budget *b, budget_ticket *t);

/* The memory limit of the container this process runs in: cgroup v2 memory.max, else cgroup
 * v1 memory.limit_in_bytes, under root (the cgroup mount, "/sys/fs/cgroup"). 0 when none is
 * set ("max", a value past any real machine, no file). */
uint64_t budget_cgroup_limit(const char *root);

#endif
