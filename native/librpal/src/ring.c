/* SPDX-License-Identifier: MIT */
/*
 * Rings. Each direction of a connection has two rings of 64-byte
 * descriptors: req (calls, one-way messages) and ctl (replies, releases).
 * The producer's half (reserve, tail, the descriptors) lives in the
 * producer's arena; the consumer's half (reserve, tail) in the consumer's
 * arena. Nobody ever writes the other process's memory.
 *
 * Producers (threads of the owner) reserve a position with a CAS on
 * reserve, store the descriptor, then publish in reservation order by
 * moving tail (release). Consumers (threads of the peer) do the same on
 * their side: CAS on their reserve, copy the descriptor out once, publish
 * their tail so the producer sees the slot free. Positions are free-running
 * 32-bit counters; "used" is tail - consumed, modulo 2^32.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "internal.h"

/* The lap of position h in a ring of n entries, which the producer writes
 * into the entry: 1 in the first lap, so a zeroed ring holds no entry. */
static inline uint16_t lap_of(uint32_t h, uint32_t n)
{
    return (uint16_t)((h >> __builtin_ctz(n)) + 1);
}

/* Whether the entry at position h of a peer's ring holds that position's
 * descriptor: its lap (in the first word, stored last with release). */
static inline bool entry_ready(const struct rpal_desc *ring, uint32_t h, uint32_t n)
{
    uint64_t w0 = __atomic_load_n((const uint64_t *)&ring[h & (n - 1)], __ATOMIC_ACQUIRE);
    return (uint16_t)(w0 >> 16) == lap_of(h, n);
}

/* One load of a word in a peer's arena. */
static inline uint32_t peer_load(const _Atomic uint32_t *p)
{
    return atomic_load_explicit(p, memory_order_acquire);
}

/* Copies a descriptor out of a peer's ring: each word is read exactly once;
 * what we check and use afterwards is the copy. */
static inline void peer_copy(struct rpal_desc *d, const struct rpal_desc *src)
{
    const uint64_t *s = (const uint64_t *)src;
    uint64_t *o = (uint64_t *)d;
    for (int i = 0; i < 8; i++)
        o[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

/* Publishes d on our req (ctl 0) or ctl ring; -EAGAIN when the ring is full,
 * with *full_at (unless NULL) the peer's consumed position seen then (a
 * waiter waits for it to move: wait.c). */
static int push(struct rpal_conn *c, int ctl, const struct rpal_desc *d, uint32_t *full_at)
{
    struct rpal_conn_shm *self = c->self;
    struct rpal_ring_prod *p = ctl ? &self->ctl_out : &self->req_out;
    const struct rpal_ring_cons *pc = ctl ? &c->peer->ctl_in : &c->peer->req_in;
    uint32_t n = self->ring_entries;
    uint32_t h;
    for (;;) {
        int dead = atomic_load(&c->dead);
        if (dead)
            return dead;
        h = atomic_load_explicit(&p->reserve, memory_order_relaxed);
        /* The peer's consumed position as last read: it only moves forward, so
         * while it shows room there is room, and the peer's line (which it
         * writes as it takes) is read again only when the ring looks full. */
        uint32_t done = atomic_load_explicit(&c->consumed_seen[ctl], memory_order_relaxed);
        uint32_t used = h - done;
        if (used >= n) {
            done = peer_load(&pc->tail);
            used = h - done;
            if (used <= n)
                atomic_store_explicit(&c->consumed_seen[ctl], done, memory_order_relaxed);
        }
        if (unlikely(used > n)) {
            /* another producer moved reserve since we read it: retry */
            if (atomic_load_explicit(&p->reserve, memory_order_relaxed) != h)
                continue;
            rpal_log(LOG_ERR, RPAL_LOG_PROTOCOL_VIOLATION,
                     "%s: peer claims to have consumed %u of our %s ring, we published %u",
                     c->name, done, ctl ? "ctl" : "req", h);
            conn_fail(c, -EPROTO);
            return -EPROTO;
        }
        if (used == n) {
            if (full_at)
                *full_at = done;
            return -EAGAIN;
        }
        if (atomic_compare_exchange_weak_explicit(&p->reserve, &h, h + 1, memory_order_relaxed,
                                                  memory_order_relaxed))
            break;
    }
    /* word by word, as the consumer reads it (and so that ThreadSanitizer,
     * which cannot see the other process, sees atomics, not a race) */
    struct rpal_desc e = *d;
    e.lap = lap_of(h, n); /* the first word, which holds it, last: the entry is then whole */
    uint64_t *slot = (uint64_t *)&conn_shm_ring(self, ctl)[h & (n - 1)];
    const uint64_t *src = (const uint64_t *)&e;
    for (int i = 1; i < 8; i++)
        __atomic_store_n(&slot[i], src[i], __ATOMIC_RELAXED);
    __atomic_store_n(&slot[0], src[0], __ATOMIC_RELEASE);
    /* publish in reservation order: wait for the producers before us */
    for (unsigned i = 0; atomic_load_explicit(&p->tail, memory_order_acquire) != h; i++) {
        if (i < 1000)
            cpu_relax();
        else
            sched_yield();
    }
    /* our turn, until the tail moves (the wait above acquires the previous
     * producer's): producers count one at a time, so a plain increment is
     * exact, without a read-modify-write on every message */
    atomic_store_explicit(&c->st_sent, atomic_load_explicit(&c->st_sent, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_store_explicit(&p->tail, h + 1, memory_order_release);

    /* Dekker with the peer's park: it sets its flag, fences, re-checks our
     * tail; we publish, fence, check its flag. One of us sees the other. */
    atomic_thread_fence(memory_order_seq_cst);
    const struct rpal_conn_shm *peer = c->peer;
    if (atomic_load_explicit(&peer->rx_parked, memory_order_relaxed)) {
        g_backend->wake_receiver(c);
        atomic_fetch_add_explicit(&c->st_wakeups, 1, memory_order_relaxed);
    }
    if (ctl && atomic_load_explicit(&peer->callers_parked, memory_order_relaxed)) {
        g_backend->wake_word(&p->tail);
        atomic_fetch_add_explicit(&c->st_wakeups, 1, memory_order_relaxed);
    }
    return 0;
}

bool ring_has_room(const struct rpal_conn *c, int ctl)
{
    const struct rpal_ring_prod *p = ctl ? &c->self->ctl_out : &c->self->req_out;
    const struct rpal_ring_cons *pc = ctl ? &c->peer->ctl_in : &c->peer->req_in;
    uint32_t h = atomic_load_explicit(&p->reserve, memory_order_relaxed);
    return h - peer_load(&pc->tail) < c->self->ring_entries;
}

bool ring_want_room(struct rpal_conn *c)
{
    /* Dekker with the peer's ring_pop: we raise the flag, fence, look for room once more; it
     * publishes room, fences, reads the flag and sends a wake-up byte. */
    atomic_store(&c->want_room, true);
    atomic_store(&c->self->room_wanted, 1);
    atomic_thread_fence(memory_order_seq_cst);
    return ring_has_room(c, 0);
}

/* Control descriptors (replies, releases, failures) never wait for room:
 * a peer that stops taking them must not stall the thread answering it.
 * When the ring is full they queue in a private backlog, in order, flushed
 * as the peer makes room; a backlog past its bound means the peer takes
 * nothing: the connection fails with -ENOBUFS. */
#define BACKLOG_PER_ENTRY 16

static void flush_locked(struct rpal_conn *c)
{
    for (;;) {
        while (c->bl_count) {
            if (push(c, 1, &c->backlog[c->bl_head], NULL) < 0)
                break;
            c->bl_head = (c->bl_head + 1) % c->bl_cap;
            c->bl_count--;
        }
        atomic_store_explicit(&c->bl_pending, c->bl_count, memory_order_release);
        /* Dekker with the peer's ring_pop: we raise the flag, fence, look for room once more;
         * it publishes room, fences, reads the flag and wakes us. */
        uint32_t want = c->bl_count ? 1 : 0;
        if (atomic_load_explicit(&c->self->backlogged, memory_order_relaxed) == want)
            return;
        atomic_store(&c->self->backlogged, want);
        if (!want || !ring_has_room(c, 1))
            return;
    }
}

void ring_flush_backlog(struct rpal_conn *c)
{
    if (!atomic_load_explicit(&c->bl_pending, memory_order_acquire) ||
        pthread_mutex_trylock(&c->backlog_lock) != 0)
        return;
    flush_locked(c);
    pthread_mutex_unlock(&c->backlog_lock);
}

int ring_try_push(struct rpal_conn *c, const struct rpal_desc *d, uint32_t *full_at)
{
    return push(c, 0, d, full_at);
}

int ring_push_ctl(struct rpal_conn *c, const struct rpal_desc *d)
{
    if (!atomic_load_explicit(&c->bl_pending, memory_order_acquire)) {
        int rc = push(c, 1, d, NULL);
        if (rc != -EAGAIN)
            return rc;
    }
    pthread_mutex_lock(&c->backlog_lock);
    flush_locked(c);
    int rc = c->bl_count ? -EAGAIN : push(c, 1, d, NULL);
    if (rc == -EAGAIN) {
        uint32_t limit = c->self->ring_entries * BACKLOG_PER_ENTRY;
        if (c->bl_count == c->bl_cap && c->bl_cap < limit) {
            uint32_t cap = c->bl_cap ? c->bl_cap * 2 : 64;
            struct rpal_desc *q = malloc((size_t)cap * sizeof *q);
            if (q) {
                for (uint32_t i = 0; i < c->bl_count; i++)
                    q[i] = c->backlog[(c->bl_head + i) % c->bl_cap];
                free(c->backlog);
                c->backlog = q;
                c->bl_cap = cap;
                c->bl_head = 0;
            }
        }
        if (c->bl_count < c->bl_cap) {
            c->backlog[(c->bl_head + c->bl_count) % c->bl_cap] = *d;
            c->bl_count++;
            flush_locked(c); /* raises the backlogged flag (and pushes if room appeared) */
            rc = 0;
        } else {
            rc = -ENOBUFS;
        }
    }
    uint32_t queued = c->bl_count;
    pthread_mutex_unlock(&c->backlog_lock);
    if (rc == -ENOBUFS) {
        rpal_log(LOG_ERR, RPAL_LOG_LIMIT,
                 "%s: pid %d takes none of our replies (%u queued)", c->name,
                 (int)c->peer_pid, queued);
        conn_fail(c, -ENOBUFS);
    }
    return rc;
}

int ring_pop(struct rpal_conn *c, int ctl, struct rpal_desc *d)
{
    struct rpal_ring_cons *cs = ctl ? &c->self->ctl_in : &c->self->req_in;
    const struct rpal_ring_prod *pp = ctl ? &c->peer->ctl_out : &c->peer->req_out;
    const struct rpal_desc *ring = ctl ? c->peer_ctl : c->peer_req;
    uint32_t n = c->peer_entries;
    uint32_t h;
    for (;;) {
        h = atomic_load_explicit(&cs->reserve, memory_order_relaxed);
        if (unlikely(c->peer->incarnation != c->peer_incarnation)) {
            /* the peer released this connection and reused its block */
            conn_fail(c, -ECONNRESET);
            return -ECONNRESET;
        }
        /* The entry's lap says it is published (one cache line: the entry
         * itself). Only when it does not is the producer's tail read: an
         * honest producer writes the entry before it moves its tail, so a
         * tail past h with the entry not there (or more than n ahead) is a
         * lie. A tail at or behind h says nothing: the producer moves it
         * after the entries, in reservation order, so it may lag the laps. */
        if (!entry_ready(ring, h, n)) {
            uint32_t t = peer_load(&pp->tail);
            if ((int32_t)(t - h) <= 0)
                return -EAGAIN;
            if (!entry_ready(ring, h, n)) { /* else published meanwhile: take it */
                /* another consumer moved reserve since we read it: retry */
                if (atomic_load_explicit(&cs->reserve, memory_order_relaxed) != h)
                    continue;
                int dead = atomic_load(&c->dead);
                if (dead)
                    return dead;
                if (t - h <= n)
                    rpal_log(LOG_ERR, RPAL_LOG_PROTOCOL_VIOLATION,
                             "%s: peer moved its %s ring tail to %u without entry %u",
                             c->name, ctl ? "ctl" : "req", t, h);
                else
                    rpal_log(LOG_ERR, RPAL_LOG_PROTOCOL_VIOLATION,
                             "%s: peer moved its %s ring tail to %u, we consumed %u of %u entries",
                             c->name, ctl ? "ctl" : "req", t, h, n);
                conn_fail(c, -EPROTO);
                return -EPROTO;
            }
        }
        peer_copy(d, &ring[h & (n - 1)]);
        if (atomic_compare_exchange_weak_explicit(&cs->reserve, &h, h + 1, memory_order_relaxed,
                                                  memory_order_relaxed))
            break;
    }
    for (unsigned i = 0; atomic_load_explicit(&cs->tail, memory_order_acquire) != h; i++) {
        if (i < 1000)
            cpu_relax();
        else
            sched_yield();
    }
    /* our turn, until the tail moves: consumers count one at a time */
    atomic_store_explicit(&c->st_received,
                          atomic_load_explicit(&c->st_received, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_store_explicit(&cs->tail, h + 1, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&c->peer->producers_parked, memory_order_relaxed))
        g_backend->wake_word(&cs->tail);
    /* it has replies queued (ctl), or a sender that did not wait (req), for the room we made */
    if (atomic_load_explicit(ctl ? &c->peer->backlogged : &c->peer->room_wanted,
                             memory_order_relaxed))
        g_backend->wake_receiver(c);
    return 0;
}

/* Descriptors queued in one ring, never more than its size: published and
 * not yet taken. The peer's half is untrusted, so a lie reads as a full or
 * empty ring, never as more. */
static uint32_t queued(uint32_t published, uint32_t taken, uint32_t entries)
{
    uint32_t n = published - taken;
    return n > entries ? entries : n;
}

void ring_depths(const struct rpal_conn *c, struct rpal_conn_stats *s)
{
    const struct rpal_conn_shm *self = c->self, *peer = c->peer;
    s->ring_entries = self->ring_entries;
    s->ctl_out_backlog = atomic_load_explicit(&c->bl_pending, memory_order_relaxed);
    s->req_out_queued = s->ctl_out_queued = s->req_in_queued = s->ctl_in_queued = 0;
    if (!peer || atomic_load(&c->dead))
        return; /* the peer's half is gone or meaningless: nothing is queued any more */
    s->req_out_queued = queued(atomic_load_explicit(&self->req_out.tail, memory_order_relaxed),
                               peer_load(&peer->req_in.tail), self->ring_entries);
    s->ctl_out_queued = queued(atomic_load_explicit(&self->ctl_out.tail, memory_order_relaxed),
                               peer_load(&peer->ctl_in.tail), self->ring_entries);
    s->req_in_queued = queued(peer_load(&peer->req_out.tail),
                              atomic_load_explicit(&self->req_in.reserve, memory_order_relaxed),
                              c->peer_entries);
    s->ctl_in_queued = queued(peer_load(&peer->ctl_out.tail),
                              atomic_load_explicit(&self->ctl_in.reserve, memory_order_relaxed),
                              c->peer_entries);
}

bool ring_entry_ready(const struct rpal_conn *c, int ctl)
{
    const struct rpal_ring_cons *cs = ctl ? &c->self->ctl_in : &c->self->req_in;
    return entry_ready(ctl ? c->peer_ctl : c->peer_req,
                       atomic_load_explicit(&cs->reserve, memory_order_relaxed), c->peer_entries);
}

bool ring_ready(const struct rpal_conn *c, int ctl)
{
    /* the entry first (a message arrives in it); a tail ahead of us without
     * it is a lie that ring_pop reports (one behind us is the producer's lag) */
    const struct rpal_ring_cons *cs = ctl ? &c->self->ctl_in : &c->self->req_in;
    const struct rpal_ring_prod *pp = ctl ? &c->peer->ctl_out : &c->peer->req_out;
    uint32_t h = atomic_load_explicit(&cs->reserve, memory_order_relaxed);
    return entry_ready(ctl ? c->peer_ctl : c->peer_req, h, c->peer_entries) ||
           (int32_t)(atomic_load_explicit(&pp->tail, memory_order_relaxed) - h) > 0;
}
