/* SPDX-License-Identifier: MIT */
/*
 * Waiting for a peer: the progress step and the waiter that every wait on a
 * connection uses (a caller's wait for its reply, a producer's wait for ring
 * room). rpal_epoll_wait's wait for a set (epoll.c) follows the same policy
 * and constants, and parks on the set instead of a word.
 *
 * A wait spins while spinning is likely to pay (the spin policy, rpal.c),
 * taking the peer's replies and releases as it looks (progress), and reads
 * the clock every WAIT_CLOCK_LOOKS looks only; then it parks on a word of the
 * peer's (a ring position the peer moves when what we wait for may have
 * happened), in slices of at most WAIT_SLICE_NS, after raising a flag of
 * ours that tells the peer to wake that word. A peer that died wakes
 * nobody: its end shows when a slice passes unwoken (one system call, not
 * one per reply) and every WAIT_LIVENESS_NS of a spin.
 *
 * ring.c and arena.c never wait and never call back into the engine: what
 * waits lives here, the park and wake themselves in the backend.
 */
#include <errno.h>

#include "internal.h"

/* The clock is read every this many looks of a spin (a read costs about as
 * much as the cache-line transfer that carries a message). */
#define WAIT_CLOCK_LOOKS 64
/* A spin looks for a dead peer this often (a system call). */
#define WAIT_LIVENESS_NS 1000000
/* A park lasts at most this long before the waiter looks for a dead peer. */
#define WAIT_SLICE_NS 10000000

void progress(struct rpal_conn *c, bool thorough)
{
    try_drain_ctl(c, thorough);
    ring_flush_backlog(c);
}

int wait_for(struct wait *w, int64_t spin_end, int64_t deadline, bool preemptible)
{
    struct rpal_conn *c = w->c;
    int64_t last = w->clock;
    int64_t next_check = last + WAIT_LIVENESS_NS;
    w->parks = 0;
    for (unsigned i = 0;; i++) {
        if (w->done(w, false))
            return 0;
        progress(c, i % SPIN_THOROUGH_LOOKS == 0);
        if (i % WAIT_CLOCK_LOOKS) {
            cpu_relax();
            continue;
        }
        int64_t now = w->clock = now_ns();
        if (now >= deadline)
            return deadline_error(deadline);
        /* a spinner that lost its CPU meanwhile (more spinners than cores) parks */
        if (now >= spin_end || (preemptible && now - last > SPIN_PREEMPTED_NS))
            break;
        last = now;
        if (now >= next_check) {
            next_check = now + WAIT_LIVENESS_NS;
            if (conn_peer_gone(c, true))
                conn_fail(c, -ECONNRESET);
        }
        cpu_relax();
    }
    for (;;) {
        /* The word first, then what it guards: whatever the peer published up
         * to seen is handled by settle, and what it publishes later moves the
         * word, so the futex returns at once. */
        uint32_t seen = atomic_load_explicit(w->word, memory_order_acquire);
        if (w->done(w, true))
            return 0;
        int64_t now = w->clock = now_ns();
        if (now >= deadline)
            return deadline_error(deadline);
        int64_t slice = deadline - now < WAIT_SLICE_NS ? deadline - now : WAIT_SLICE_NS;
        /* Dekker with the peer: we raise our flag, fence, look again; it
         * publishes, fences, reads our flag and wakes the word. */
        atomic_fetch_add(w->parked, 1);
        atomic_thread_fence(memory_order_seq_cst);
        int waited = 1;
        if (atomic_load_explicit(w->word, memory_order_acquire) == seen && !w->done(w, false)) {
            waited = g_backend->wait_word(w->word, seen, slice);
            w->parks++;
        }
        atomic_fetch_sub(w->parked, 1);
        if (waited <= 0 && conn_peer_gone(c, waited == -ETIMEDOUT))
            conn_fail(c, -ECONNRESET);
    }
}

/* A producer's wait for room: the peer's consumed position moved past full_at. */
static bool room_done(const struct wait *w, bool settle)
{
    (void)settle;
    return atomic_load_explicit(w->word, memory_order_acquire) != w->seen ||
           atomic_load_explicit(&w->c->dead, memory_order_relaxed);
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
        struct wait w = {
            .c = c,
            .word = &c->peer->req_in.tail,
            .parked = &c->self->producers_parked,
            .done = room_done,
            .seen = full_at,
            .clock = now_ns(),
        };
        rc = wait_for(&w, w.clock + spin_budget_ns(), deadline, true);
        if (rc < 0)
            return rc;
    }
}
