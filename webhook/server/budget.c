/* budget: see budget.h. */
#include "budget.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A charge at most this share of the total may pass the queue when it fits: small reviews
 * are not held behind a large one that waits for room, and cannot starve it for long (each
 * is a small part of what it waits for). */
#define BUDGET_SMALL_SHARE 64
/* A cgroup limit above this means none (v1 writes about 2^63 rounded to the page). */
#define BUDGET_CGROUP_NONE ((uint64_t)1 << 60)
#define BUDGET_CGROUP_FILE_MAX 64

struct budget {
    pthread_mutex_t lock;
    pthread_cond_t changed; /* the queue's head deadline changed, or stop */
    pthread_t thread;
    size_t total, used;
    budget_ticket *head, *tail;
    size_t waiting;
    bool stop;   /* no more grants nor wakes */
    bool joined; /* the thread is gone */
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Under the lock: marks t woken with state; adds it to *wake_list unless its caller is still
 * going to sleep (it then wakes itself, budget_parked). */
static void settle(budget_ticket *t, budget_state state, budget_ticket **wake_list)
{
    t->state = state;
    if (t->parking) {
        t->woken = true;
        return;
    }
    t->next = *wake_list;
    *wake_list = t;
}

static void unlink_ticket(budget *b, budget_ticket *t, budget_ticket *prev)
{
    if (prev)
        prev->next = t->next;
    else
        b->head = t->next;
    if (b->tail == t)
        b->tail = prev;
    t->next = NULL;
    b->waiting--;
}

/* Under the lock: grants queued tickets in order while they fit; past the first that does
 * not, only small ones. */
static void grant_fitting(budget *b, budget_ticket **wake_list)
{
    budget_ticket *prev = NULL, *t = b->head;
    bool blocked = false;
    while (t) {
        budget_ticket *next = t->next;
        bool fits = t->charge <= b->total - b->used;
        if (fits && (!blocked || t->charge <= b->total / BUDGET_SMALL_SHARE)) {
            unlink_ticket(b, t, prev);
            b->used += t->charge;
            settle(t, BUDGET_GRANTED, wake_list);
        } else {
            blocked = true;
            prev = t;
        }
        t = next;
    }
}

/* Under the lock: expires queued tickets whose deadline passed; returns the earliest
 * deadline left, or 0. */
static uint64_t expire_due(budget *b, uint64_t now, budget_ticket **wake_list)
{
    uint64_t earliest = 0;
    budget_ticket *prev = NULL, *t = b->head;
    while (t) {
        budget_ticket *next = t->next;
        if (t->deadline_ns <= now) {
            unlink_ticket(b, t, prev);
            settle(t, BUDGET_EXPIRED, wake_list);
        } else {
            if (!earliest || t->deadline_ns < earliest)
                earliest = t->deadline_ns;
            prev = t;
        }
        t = next;
    }
    return earliest;
}

/* Without the lock: a woken ticket may be released (and its memory reused) once its wake
 * ran, so next is read first. */
static void wake_all(budget_ticket *list)
{
    while (list) {
        budget_ticket *next = list->next;
        list->next = NULL;
        list->wake(list->ctx);
        list = next;
    }
}

static void *watch(void *arg)
{
    budget *b = arg;
    pthread_mutex_lock(&b->lock);
    while (!b->stop) {
        budget_ticket *wake_list = NULL;
        uint64_t earliest = expire_due(b, now_ns(), &wake_list);
        if (wake_list) {
            pthread_mutex_unlock(&b->lock);
            wake_all(wake_list);
            pthread_mutex_lock(&b->lock);
            continue;
        }
        if (!earliest) {
            pthread_cond_wait(&b->changed, &b->lock);
            continue;
        }
        struct timespec until = {.tv_sec = (time_t)(earliest / 1000000000u),
                                 .tv_nsec = (long)(earliest % 1000000000u)};
        pthread_cond_timedwait(&b->changed, &b->lock, &until);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

cw_result budget_new(size_t total, budget **out)
{
    budget *b = calloc(1, sizeof *b);
    if (!b)
        return CW_ENOMEM;
    b->total = total;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&b->changed, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0) {
        free(b);
        return CW_ENOMEM;
    }
    pthread_mutex_init(&b->lock, NULL);
    if (pthread_create(&b->thread, NULL, watch, b) != 0) {
        pthread_cond_destroy(&b->changed);
        pthread_mutex_destroy(&b->lock);
        free(b);
        return CW_ENOMEM;
    }
    *out = b;
    return CW_OK;
}

void budget_stop_waking(budget *b)
{
    if (!b || b->joined)
        return;
    pthread_mutex_lock(&b->lock);
    b->stop = true;
    pthread_cond_signal(&b->changed);
    pthread_mutex_unlock(&b->lock);
    pthread_join(b->thread, NULL);
    b->joined = true;
}

void budget_free(budget *b)
{
    if (!b)
        return;
    budget_stop_waking(b);
    pthread_cond_destroy(&b->changed);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

size_t budget_total(const budget *b)
{
    return b->total;
}

size_t budget_in_use(budget *b)
{
    pthread_mutex_lock(&b->lock);
    size_t n = b->used;
    pthread_mutex_unlock(&b->lock);
    return n;
}

size_t budget_waiting(budget *b)
{
    pthread_mutex_lock(&b->lock);
    size_t n = b->waiting;
    pthread_mutex_unlock(&b->lock);
    return n;
}

bool budget_acquire(budget *b, budget_ticket *t, size_t charge, uint64_t deadline_ns,
                    void (*wake)(void *ctx), void *ctx)
{
    if (charge > b->total)
        charge = b->total;
    *t = (budget_ticket){.charge = charge, .deadline_ns = deadline_ns, .wake = wake, .ctx = ctx};
    pthread_mutex_lock(&b->lock);
    bool small = charge <= b->total / BUDGET_SMALL_SHARE;
    if (charge <= b->total - b->used && (!b->head || small)) {
        b->used += charge;
        t->state = BUDGET_GRANTED;
        pthread_mutex_unlock(&b->lock);
        return true;
    }
    t->state = BUDGET_WAITING;
    t->parking = true;
    if (b->tail)
        b->tail->next = t;
    else
        b->head = t;
    b->tail = t;
    b->waiting++;
    pthread_cond_signal(&b->changed); /* a new deadline to watch */
    pthread_mutex_unlock(&b->lock);
    return false;
}

bool budget_parked(budget *b, budget_ticket *t)
{
    pthread_mutex_lock(&b->lock);
    t->parking = false;
    bool woken = t->woken;
    t->woken = false;
    pthread_mutex_unlock(&b->lock);
    return woken;
}

void budget_release(budget *b, budget_ticket *t)
{
    budget_ticket *wake_list = NULL;
    pthread_mutex_lock(&b->lock);
    if (t->state == BUDGET_GRANTED) {
        b->used -= t->charge;
    } else if (t->state == BUDGET_WAITING) {
        budget_ticket *prev = NULL;
        for (budget_ticket *q = b->head; q; prev = q, q = q->next) {
            if (q == t) {
                unlink_ticket(b, t, prev);
                break;
            }
        }
    }
    bool freed = t->state == BUDGET_GRANTED || t->state == BUDGET_WAITING;
    t->state = BUDGET_IDLE;
    t->parking = false;
    t->woken = false;
    if (freed && !b->stop)
        grant_fitting(b, &wake_list);
    pthread_mutex_unlock(&b->lock);
    wake_all(wake_list);
}

/* The number in a cgroup file, or 0 for "max", a huge value or no file. */
static uint64_t read_limit(const char *path)
{
    char text[BUDGET_CGROUP_FILE_MAX + 1];
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(text, 1, BUDGET_CGROUP_FILE_MAX, f);
    fclose(f);
    text[n] = '\0';
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = '\0';
    if (n == 0 || text[0] < '0' || text[0] > '9')
        return 0; /* "max" */
    errno = 0;
    char *end = NULL;
    uintmax_t v = strtoumax(text, &end, 10);
    if (errno || *end || v >= BUDGET_CGROUP_NONE)
        return 0;
    return (uint64_t)v;
}

uint64_t budget_cgroup_limit(const char *root)
{
    char path[512];
    snprintf(path, sizeof path, "%s/memory.max", root);
    uint64_t v2 = read_limit(path);
    if (v2)
        return v2;
    snprintf(path, sizeof path, "%s/memory/memory.limit_in_bytes", root);
    return read_limit(path);
}
