/* SPDX-License-Identifier: MIT */
/*
 * Waiting: the progress step and the one waiter (wait_for) that every wait
 * of the engine runs: a caller's wait for its reply, a producer's wait for
 * ring room (a conn_wait, here) and rpal_epoll_wait's wait for the events of
 * a set (epoll.c). What differs between them is behind struct wait_ops: what
 * a look is, what runs on a schedule during a spin, and how to park.
 *
 * A wait spins while spinning is likely to pay (the spin policy, rpal.c; its
 * caller passes the spin's end), and reads the clock every clock_looks looks
 * only (a read costs about as much as the cache-line transfer that carries a
 * message); then it settles (handles what came so far) and parks, until done
 * or the deadline. The park itself is the backend's (wait_word, park_set).
 *
 * A connection's wait parks on a word of the peer's (a ring position the
 * peer moves when what we wait for may have happened), in slices of at most
 * WAIT_SLICE_NS, after raising a flag of ours that tells the peer to wake
 * that word. A peer that died wakes nobody: its end shows when a slice passes
 * unwoken (one system call, not one per reply) and every WAIT_LIVENESS_NS of
 * a spin.
 *
 * ring.c and arena.c never wait and never call back into the engine.
 */
#include <errno.h>

#include "internal.h"

/* A spin looks for a dead peer this often (a system call). */
#define WAIT_LIVENESS_NS 1000000
/* A connection's park lasts at most this long before the waiter looks for a dead peer. */
#define WAIT_SLICE_NS 10000000
/* The clock is read every this many looks of a connection's spin. */
#define WAIT_CLOCK_LOOKS 64

void progress(struct rpal_conn *c, bool thorough)
{
    try_drain_ctl(c, thorough);
    ring_flush_backlog(c);
}

int wait_for(struct wait *w, int64_t spin_end, int64_t deadline, bool preemptible)
{
    const struct wait_ops *ops = w->ops;
    int64_t last = w->clock;
    w->parks = 0;
    if (w->spin_lock)
        pthread_mutex_lock(w->spin_lock);
    /* i stays below WAIT_SETTLE however long the spin (RPAL_SPIN_NS has no cap) */
    for (uint32_t i = 0, until_clock = 1;; i = (i + 1) & INT32_MAX) {
        if (ops->done(w, i)) {
            if (w->spin_lock)
                pthread_mutex_unlock(w->spin_lock);
            return 0;
        }
        if (--until_clock) {
            cpu_relax();
            continue;
        }
        until_clock = w->clock_looks;
        int64_t now = w->clock = now_ns();
        if (w->spin_lock)
            pthread_mutex_unlock(w->spin_lock);
        if (ops->tick(w, now))
            return 0;
        if (now >= deadline)
            return deadline_error(deadline);
        /* a spinner that lost its CPU meanwhile (more spinners than cores) parks */
        if (now >= spin_end || (preemptible && now - last > SPIN_PREEMPTED_NS))
            break;
        last = now;
        if (w->spin_lock)
            pthread_mutex_lock(w->spin_lock);
        cpu_relax();
    }
    for (;;) {
        if (ops->done(w, WAIT_SETTLE))
            return 0;
        int64_t now = w->clock = now_ns();
        if (now >= deadline)
            return deadline_error(deadline);
        int rc = ops->park(w, deadline - now);
        if (rc)
            return rc > 0 ? 0 : rc;
    }
}

/* ------------------------------------------------------------ a connection's wait */

#define CONN_WAIT(w) ((struct conn_wait *)(w))

static bool conn_done(struct wait *w, uint32_t look)
{
    struct conn_wait *cw = CONN_WAIT(w);
    if (look == WAIT_SETTLE) {
        /* The word first, then what it guards: whatever the peer published up
         * to seen is handled by settle, and what it publishes later moves the
         * word, so the park returns at once. */
        cw->seen = atomic_load_explicit(cw->word, memory_order_acquire);
        return cw->done(cw, true);
    }
    if (cw->done(cw, false))
        return true;
    progress(cw->c, look % SPIN_THOROUGH_LOOKS == 0);
    return false;
}

static bool conn_tick(struct wait *w, int64_t now)
{
    struct conn_wait *cw = CONN_WAIT(w);
    if (now >= cw->next_check) {
        cw->next_check = now + WAIT_LIVENESS_NS;
        if (conn_peer_gone(cw->c, true))
            conn_fail(cw->c, -ECONNRESET);
    }
    return false; /* done() sees what a failure did */
}

static int conn_park(struct wait *w, int64_t ns)
{
    struct conn_wait *cw = CONN_WAIT(w);
    /* Dekker with the peer: we raise our flag, fence, look again; it
     * publishes, fences, reads our flag and wakes the word. */
    atomic_fetch_add(cw->parked, 1);
    atomic_thread_fence(memory_order_seq_cst);
    bool moved = atomic_load_explicit(cw->word, memory_order_acquire) != cw->seen;
    bool done = !moved && cw->done(cw, false);
    int waited = 1;
    if (!moved && !done) {
        waited = g_backend->wait_word(cw->word, cw->seen, ns < WAIT_SLICE_NS ? ns : WAIT_SLICE_NS);
        w->parks++;
    }
    atomic_fetch_sub(cw->parked, 1);
    w->clock = now_ns();
    if (waited <= 0 && conn_peer_gone(cw->c, waited == -ETIMEDOUT))
        conn_fail(cw->c, -ECONNRESET);
    return done;
}

static const struct wait_ops s_conn_wait_ops = {
    .done = conn_done,
    .tick = conn_tick,
    .park = conn_park,
};

void conn_wait_init(struct conn_wait *cw, struct rpal_conn *c, const _Atomic uint32_t *word,
                    _Atomic uint32_t *parked, bool (*done)(const struct conn_wait *, bool),
                    int64_t clock)
{
    *cw = (struct conn_wait){
        .w = {.ops = &s_conn_wait_ops, .clock_looks = WAIT_CLOCK_LOOKS, .clock = clock},
        .c = c,
        .word = word,
        .parked = parked,
        .done = done,
        .next_check = clock + WAIT_LIVENESS_NS,
    };
}

/* A producer's wait for room: the peer's consumed position moved past full_at. */
static bool room_done(const struct conn_wait *cw, bool settle)
{
    (void)settle;
    return atomic_load_explicit(cw->word, memory_order_acquire) != cw->full_at ||
           atomic_load_explicit(&cw->c->dead, memory_order_relaxed);
}

int push_waiting(struct rpal_conn *c, const struct rpal_desc *d, int64_t deadline)
{
    for (;;) {
        uint32_t full_at;
        int rc = ring_try_push(c, d, &full_at);
        if (rc != -EAGAIN)
            return rc;
        if (deadline == DEADLINE_NOW) {
            if (ring_want_room(c))
                continue; /* room appeared while we raised the flag: try once more */
            return -EAGAIN;
        }
        struct conn_wait cw;
        conn_wait_init(&cw, c, &c->peer->req_in.tail, &c->self->producers_parked, room_done,
                       now_ns());
        cw.full_at = full_at;
        rc = wait_for(&cw.w, cw.w.clock + spin_budget_ns(), deadline, true);
        if (rc < 0)
            return rc;
    }
}
