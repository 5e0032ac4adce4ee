/* SPDX-License-Identifier: MIT */
/*
 * Messages and calls: one-way sends, calls (blocking and submitted), replies,
 * releases, and the drain of the peer's control ring that routes replies to
 * their calls.
 *
 * A call id is (generation << 32) | (slot index + 1). The slot table is
 * private; the peer only echoes the id back, and a reply whose id does not
 * name a slot waiting with that generation is rejected.
 *
 * Slot states: FREE -> SYNC|ASYNC (call made) -> FILLING (a reply is being
 * written into it) -> DONE (sync: the waiter takes it) or QUEUED (async: on
 * the completion queue). A sync caller that times out turns SYNC into
 * ABANDONED; the slot then waits for the late reply (or the connection's
 * end) so the request buffer is never freed while the peer may read it.
 * Every transition out of SYNC/ASYNC/ABANDONED is a CAS, so the drain and a
 * failing connection never both complete one call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static inline uint64_t call_id(const struct rpal_call_slot *s, uint32_t idx)
{
    return ((uint64_t)atomic_load_explicit(&s->gen, memory_order_relaxed) << 32) | (idx + 1);
}

int calls_init(struct rpal_conn *c, uint32_t n)
{
    c->calls = calloc(n, sizeof *c->calls);
    if (!c->calls)
        return -ENOMEM;
    c->ncalls = n;
    for (uint32_t i = 0; i < n; i++)
        atomic_init(&c->calls[i].next, i + 2 <= n ? i + 2 : 0);
    atomic_init(&c->free_top, 1);
    return 0;
}

void calls_free(struct rpal_conn *c)
{
    free(c->calls);
    c->calls = NULL;
}

/* The free slots are a lock-free stack (free_top): taking and giving back a
 * slot is one CAS on a call's path. Only a thread that finds none takes
 * call_lock, to wait on call_cond. */
static bool slot_pop(struct rpal_conn *c, uint32_t *idx)
{
    uint64_t top = atomic_load_explicit(&c->free_top, memory_order_acquire);
    for (;;) {
        uint32_t i = (uint32_t)top;
        if (!i)
            return false;
        uint64_t next = atomic_load_explicit(&c->calls[i - 1].next, memory_order_relaxed);
        uint64_t pops = (top >> 32) + 1;
        if (atomic_compare_exchange_weak_explicit(&c->free_top, &top, pops << 32 | next,
                                                  memory_order_acquire, memory_order_acquire)) {
            *idx = i - 1;
            return true;
        }
    }
}

static void slot_push(struct rpal_conn *c, uint32_t idx)
{
    uint64_t top = atomic_load_explicit(&c->free_top, memory_order_relaxed);
    do
        atomic_store_explicit(&c->calls[idx].next, (uint32_t)top, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&c->free_top, &top,
                                                  (top & ~0xffffffffull) | (idx + 1),
                                                  memory_order_seq_cst, memory_order_relaxed));
}

/* slot_get's slow path: no free slot. Waits on call_cond until one is pushed,
 * the limit (-EAGAIN for DEADLINE_NOW, which also asks the next slot_put()
 * to report EPOLLRPALOUT; -ETIMEDOUT) or the connection's end. Dekker with
 * slot_put: we raise slot_waiters (slot_wanted), then look at the stack; it
 * pushes, then reads them. */
static int slot_wait(struct rpal_conn *c, uint32_t *idx, struct limit *lim)
{
    int rc = 0;
    pthread_mutex_lock(&c->call_lock);
    atomic_fetch_add(&c->slot_waiters, 1);
    while (!slot_pop(c, idx)) {
        if ((rc = atomic_load(&c->dead)))
            break;
        int64_t deadline = limit_deadline(lim);
        int64_t now = now_ns();
        if (now >= deadline) {
            rc = deadline_error(deadline);
            if (rc == -EAGAIN) {
                atomic_store(&c->want_room, true);
                atomic_store(&c->slot_wanted, true);
                if (slot_pop(c, idx))
                    rc = 0; /* pushed as we raised the flag: ours after all */
            }
            break;
        }
        int64_t wait = deadline - now < 10 * 1000000 ? deadline - now : 10 * 1000000;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += wait;
        ts.tv_sec += ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&c->call_cond, &c->call_lock, &ts);
        if (conn_peer_gone(c, true)) {
            pthread_mutex_unlock(&c->call_lock);
            conn_fail(c, -ECONNRESET);
            pthread_mutex_lock(&c->call_lock);
        }
    }
    atomic_fetch_sub(&c->slot_waiters, 1);
    pthread_mutex_unlock(&c->call_lock);
    return rc;
}

/* Takes a free slot, waiting for one as slot_wait says; its generation moves on. */
static int slot_get(struct rpal_conn *c, uint32_t *idx, struct limit *lim)
{
    int rc = atomic_load_explicit(&c->dead, memory_order_relaxed);
    if (rc)
        return rc;
    if (!slot_pop(c, idx) && (rc = slot_wait(c, idx, lim)) < 0)
        return rc;
    struct rpal_call_slot *s = &c->calls[*idx];
    uint32_t gen = atomic_load_explicit(&s->gen, memory_order_relaxed) + 1;
    atomic_store_explicit(&s->gen, gen ? gen : 1, memory_order_relaxed);
    return 0;
}

static void slot_put(struct rpal_conn *c, uint32_t idx)
{
    atomic_store_explicit(&c->calls[idx].state, CALL_FREE, memory_order_relaxed);
    slot_push(c, idx);
    if (atomic_load(&c->slot_waiters)) {
        pthread_mutex_lock(&c->call_lock);
        pthread_cond_signal(&c->call_cond);
        pthread_mutex_unlock(&c->call_lock);
    }
    if (atomic_load(&c->slot_wanted) && atomic_exchange(&c->slot_wanted, false))
        ep_wake_conn(c); /* a RPAL_MSG_DONTWAIT caller waits for EPOLLRPALOUT */
}

bool calls_room_ready(struct rpal_conn *c)
{
    if (!atomic_load_explicit(&c->want_room, memory_order_relaxed))
        return false;
    if (!ring_has_room(c, 0) && !ring_want_room(c))
        return false; /* the peer wakes us when it takes from the ring */
    /* Dekker with slot_put: we raise the flag, then look at the stack once more */
    if (!(uint32_t)atomic_load(&c->free_top)) {
        atomic_store(&c->slot_wanted, true); /* slot_put() wakes us */
        if (!(uint32_t)atomic_load(&c->free_top))
            return false;
    }
    /* cleared before the sender tries again: a sender that fails after this raises both anew */
    atomic_store(&c->self->room_wanted, 0);
    atomic_store(&c->want_room, false);
    return true;
}

static void cq_push(struct rpal_conn *c, uint32_t idx)
{
    pthread_mutex_lock(&c->call_lock);
    atomic_store_explicit(&c->calls[idx].next, 0, memory_order_relaxed);
    if (c->cq_tail)
        atomic_store_explicit(&c->calls[c->cq_tail - 1].next, idx + 1, memory_order_relaxed);
    else
        c->cq_head = idx + 1;
    c->cq_tail = idx + 1;
    atomic_store_explicit(&c->calls[idx].state, CALL_QUEUED, memory_order_relaxed);
    atomic_fetch_add(&c->cq_count, 1);
    pthread_mutex_unlock(&c->call_lock);
}

static void free_req(struct rpal_call_slot *s)
{
    if (s->req_buf)
        arena_free_block(s->req_buf);
    s->req_buf = NULL;
}

/* Claims a slot in state from for completion; true if we won it. */
static bool claim(struct rpal_call_slot *s, uint32_t from, uint32_t to)
{
    uint32_t st = from;
    return atomic_compare_exchange_strong(&s->state, &st, to);
}

/* Ends call idx with res and, if res == 0, reply. */
static void complete(struct rpal_conn *c, uint32_t idx, int res, const struct rpal_msg *reply)
{
    struct rpal_call_slot *s = &c->calls[idx];
    for (;;) {
        uint32_t st = atomic_load(&s->state);
        if (st == CALL_SYNC || st == CALL_ASYNC) {
            if (!claim(s, st, CALL_FILLING))
                continue;
            free_req(s);
            s->res = res;
            if (res == 0)
                s->reply = *reply;
            else
                memset(&s->reply, 0, sizeof s->reply);
            if (st == CALL_SYNC)
                atomic_store_explicit(&s->state, CALL_DONE, memory_order_release);
            else
                cq_push(c, idx);
            return;
        }
        if (st == CALL_ABANDONED) {
            if (!claim(s, st, CALL_FILLING))
                continue;
            free_req(s);
            if (res == 0 && reply->data) {
                struct rpal_msg m = *reply;
                rpal_release(c, &m); /* nobody will read it */
            }
            slot_put(c, idx);
        }
        return;
    }
}

void calls_fail_all(struct rpal_conn *c, int err)
{
    for (uint32_t i = 0; i < c->ncalls; i++) {
        uint32_t st = atomic_load(&c->calls[i].state);
        if (st == CALL_SYNC || st == CALL_ASYNC || st == CALL_ABANDONED)
            complete(c, i, err, NULL);
    }
}

static void reject(struct rpal_conn *c, const char *what, const struct rpal_desc *d)
{
    atomic_fetch_add(&c->st_rejected, 1);
    rpal_log(LOG_WARN, RPAL_LOG_PROTOCOL_VIOLATION,
             "%s: pid %d sent %s (kind %u id %#llx ptr %#llx len %llu)", c->name,
             (int)c->peer_pid, what, d->kind, (unsigned long long)d->id,
             (unsigned long long)d->ptr, (unsigned long long)d->len);
}

/* The payload a descriptor names, checked against the peer's arena. */
static bool payload_ok(const struct rpal_conn *c, const struct rpal_desc *d)
{
    return d->len == 0 || peer_range_ok(c, d->ptr, d->len);
}

static void msg_from_desc(const struct rpal_desc *d, struct rpal_msg *m)
{
    memcpy(m->words, d->words, sizeof m->words);
    m->data = d->len ? (const void *)(uintptr_t)d->ptr : NULL;
    m->len = d->len;
    m->status = d->status;
    m->flags = 0;
    m->id = 0;
}

/* A reply we will not read: give its payload back so the peer can free it. */
static void refuse_reply(struct rpal_conn *c, const char *why, const struct rpal_desc *d)
{
    reject(c, why, d);
    if (d->len && peer_range_ok(c, d->ptr, d->len)) {
        struct rpal_msg m = {.data = (const void *)(uintptr_t)d->ptr, .len = d->len};
        rpal_release(c, &m);
    }
}

static void on_reply(struct rpal_conn *c, const struct rpal_desc *d)
{
    uint32_t idx = (uint32_t)d->id - 1;
    if (idx >= c->ncalls ||
        atomic_load_explicit(&c->calls[idx].gen, memory_order_relaxed) != (uint32_t)(d->id >> 32)) {
        refuse_reply(c, "a reply to no call of ours", d);
        return;
    }
    uint32_t st = atomic_load(&c->calls[idx].state);
    if (st != CALL_SYNC && st != CALL_ASYNC && st != CALL_ABANDONED) {
        refuse_reply(c, "a second reply", d);
        return;
    }
    if (!payload_ok(c, d)) {
        reject(c, "a reply pointing outside its arena", d);
        complete(c, idx, -EPROTO, NULL);
        return;
    }
    if (d->kind == RPAL_DESC_FAIL) {
        int res = d->status < 0 && d->status > -4096 ? d->status : -EPROTO;
        complete(c, idx, res, NULL);
        return;
    }
    struct rpal_msg m;
    msg_from_desc(d, &m);
    complete(c, idx, 0, &m);
}

void drain_ctl(struct rpal_conn *c)
{
    struct rpal_desc d;
    while (ring_pop(c, 1, &d) == 0) {
        switch (d.kind) {
        case RPAL_DESC_REPLY:
        case RPAL_DESC_FAIL:
            on_reply(c, &d);
            break;
        case RPAL_DESC_RELEASE:
            conn_take_back(c, d.ptr);
            break;
        default:
            reject(c, "an unknown control descriptor", &d);
        }
    }
}

bool try_drain_ctl(struct rpal_conn *c, bool thorough)
{
    if (!(thorough ? ring_ready(c, 1) : ring_entry_ready(c, 1)) ||
        pthread_mutex_trylock(&c->drain_lock) != 0)
        return false;
    drain_ctl(c);
    pthread_mutex_unlock(&c->drain_lock);
    return true;
}

/* The buffer behind a message to send: NULL for none, or an unsent
 * allocation of ours that holds len bytes from data. */
static int send_buf(const struct rpal_msg *m, struct rpal_buf **out)
{
    *out = NULL;
    if (!m->data)
        return m->len ? -EINVAL : 0;
    struct rpal_buf *b = arena_buf_of(m->data, BUF_OWNED);
    if (!b || m->len > buf_capacity(b))
        return -EINVAL;
    *out = b;
    return 0;
}

static void desc_of(struct rpal_desc *d, uint32_t kind, uint64_t id, const struct rpal_msg *m)
{
    d->kind = kind;
    d->status = m->status;
    d->id = id;
    d->ptr = m->data && m->len ? (uint64_t)(uintptr_t)m->data : 0;
    d->len = m->data ? m->len : 0;
    memcpy(d->words, m->words, sizeof d->words);
}

/* How long a send or call may wait for room: RPAL_MSG_DONTWAIT does not. */
static int64_t send_deadline(const struct rpal_msg *m, int64_t deadline)
{
    return (m->flags & RPAL_MSG_DONTWAIT) ? DEADLINE_NOW : deadline;
}

/* Sends m on ring ctl, lending its buffer to the peer, waiting for room until deadline. On
 * -EAGAIN the buffer is the caller's again; on any other error it is freed. */
static int send_lent(struct rpal_conn *c, int ctl, uint32_t kind, uint64_t id,
                     const struct rpal_msg *m, int64_t deadline)
{
    struct rpal_buf *b;
    int rc = send_buf(m, &b);
    if (rc < 0)
        return rc;
    /* an empty payload gives the peer nothing to read: nothing to lend, freed once sent */
    struct rpal_buf *lent = b && m->len ? b : NULL;
    if (lent && (rc = conn_lend(c, lent)) < 0) {
        arena_free_block(lent);
        return rc;
    }
    struct rpal_desc d;
    desc_of(&d, kind, id, m);
    rc = ctl ? ring_push_ctl(c, &d) : push_waiting(c, &d, deadline);
    if (rc == -EAGAIN) {
        if (lent && !conn_unlend(c, lent))
            return -ECONNRESET; /* the connection ended meanwhile and freed it */
        return rc;
    }
    if (lent && rc < 0)
        conn_unlend_free(c, lent);
    else if (b && !lent)
        arena_free_block(b);
    return rc;
}

RPAL_API int rpal_send(struct rpal_conn *c, const struct rpal_msg *msg)
{
    if (!c || !msg || (msg->flags & ~RPAL_MSG_DONTWAIT))
        return -EINVAL;
    return send_lent(c, 0, RPAL_DESC_ONEWAY, 0, msg, send_deadline(msg, DEADLINE_NONE));
}

RPAL_API int rpal_write_ptrs(struct rpal_conn *c, const int64_t *ptrs, int n)
{
    if (!c || n < 0 || n > RPAL_INLINE_WORDS || (n && !ptrs))
        return -EINVAL;
    struct rpal_msg m = {0};
    memcpy(m.words, ptrs, (size_t)n * sizeof *ptrs);
    return rpal_send(c, &m);
}

RPAL_API int rpal_reply(struct rpal_conn *c, uint64_t id, const struct rpal_msg *reply)
{
    if (!c || !reply || id == 0)
        return -EINVAL;
    return send_lent(c, 1, RPAL_DESC_REPLY, id, reply, DEADLINE_NOW);
}

RPAL_API int rpal_release(struct rpal_conn *c, const struct rpal_msg *msg)
{
    if (!c || !msg)
        return -EINVAL;
    if (!msg->data)
        return 0;
    uint64_t p = (uint64_t)(uintptr_t)msg->data;
    if (!peer_range_ok(c, p, msg->len))
        return -EINVAL;
    struct rpal_desc d = {.kind = RPAL_DESC_RELEASE, .ptr = p, .len = msg->len};
    return ring_push_ctl(c, &d);
}

RPAL_API int rpal_recv(struct rpal_conn *c, struct rpal_msg *msg)
{
    if (!c || !msg)
        return -EINVAL;
    struct rpal_desc d;
    for (;;) {
        int rc = atomic_load(&c->dead);
        if (rc)
            return rc;
        if ((rc = ring_pop(c, 0, &d)) < 0) {
            if (rc == -EAGAIN && conn_peer_gone(c, false)) {
                conn_fail(c, -ECONNRESET);
                return -ECONNRESET;
            }
            return rc;
        }
        bool call = d.kind == RPAL_DESC_CALL && d.id != 0;
        if (!call && d.kind != RPAL_DESC_ONEWAY) {
            reject(c, "an unknown request descriptor", &d);
            continue;
        }
        if (!payload_ok(c, &d)) {
            reject(c, "a request pointing outside its arena", &d);
            if (call) {
                struct rpal_desc f = {.kind = RPAL_DESC_FAIL, .status = -EPROTO, .id = d.id};
                ring_push_ctl(c, &f);
            }
            continue;
        }
        msg_from_desc(&d, msg);
        msg->id = call ? d.id : 0;
        return 0;
    }
}

/* Starts a call: takes a slot in state st, hands the request buffer to it,
 * publishes the descriptor, waiting for a slot and for ring room until the
 * limit. On -EAGAIN (DEADLINE_NOW) the request buffer is the caller's
 * again; on other errors it is freed. */
static int call_start(struct rpal_conn *c, const struct rpal_msg *req, uint32_t st,
                      uint64_t user_data, uint64_t *id_out, struct limit *lim)
{
    struct rpal_buf *b;
    int rc = send_buf(req, &b);
    if (rc < 0)
        return rc;
    uint32_t idx = 0;
    if ((rc = slot_get(c, &idx, lim)) < 0) {
        if (b && rc != -EAGAIN)
            arena_free_block(b);
        return rc;
    }
    struct rpal_call_slot *s = &c->calls[idx];
    if (st == CALL_ASYNC && atomic_fetch_add(&c->async_pending, 1) == 0)
        ep_wake_conn(c); /* a waiter parked without watching this connection: re-park */
    s->user_data = user_data;
    s->req_buf = b;
    if (b)
        b->state = BUF_INCALL;
    s->res = 0;
    atomic_store_explicit(&s->state, st, memory_order_release);
    struct rpal_desc d;
    uint64_t id = call_id(s, idx);
    desc_of(&d, RPAL_DESC_CALL, id, req);
    if (id_out)
        *id_out = id; /* before publishing: the completion may come first */
    uint32_t full_at;
    if ((rc = ring_try_push(c, &d, &full_at)) == -EAGAIN)
        rc = push_waiting(c, &d, limit_deadline(lim));
    if (rc < 0) {
        /* Not published. Either we take the call back, or the connection
         * failed and calls_fail_all() already ended it: a sync call is then
         * DONE (take it back too), a submitted one completes with the error,
         * which is its one outcome. */
        if (claim(s, st, CALL_FREE) || claim(s, CALL_DONE, CALL_FREE)) {
            if (st == CALL_ASYNC)
                atomic_fetch_sub(&c->async_pending, 1);
            if (rc == -EAGAIN && b) {
                b->state = BUF_OWNED; /* the caller's again, to send later */
                s->req_buf = NULL;
            }
            free_req(s);
            slot_put(c, idx);
            return rc;
        }
        return 0;
    }
    return 0;
}

RPAL_API int rpal_call_submit(struct rpal_conn *c, const struct rpal_msg *req, uint64_t user_data,
                              uint64_t *id)
{
    if (!c || !req || (req->flags & ~RPAL_MSG_DONTWAIT))
        return -EINVAL;
    struct limit lim = limit_at(send_deadline(req, DEADLINE_NONE));
    return call_start(c, req, CALL_ASYNC, user_data, id, &lim);
}

/* A caller's wait for its reply: its slot is DONE. Before a park, the peer's
 * replies published so far are drained (under drain_lock: a drain by another
 * thread that is under way has finished then, and ours takes the rest). */
static bool reply_done(const struct conn_wait *w, bool settle)
{
    const struct rpal_call_slot *s = w->arg;
    if (settle) {
        pthread_mutex_lock(&w->c->drain_lock);
        drain_ctl(w->c);
        pthread_mutex_unlock(&w->c->drain_lock);
    }
    return atomic_load_explicit(&s->state, memory_order_acquire) == CALL_DONE;
}

/* Waits for call s: spins for spin_ns (< 0: as the spin policy says), then
 * parks on the peer's ctl tail until the limit (NULL: no park, the wait ends
 * with the spin). True when the call is DONE;
 * false at the limit (the call is still SYNC, or being completed: the
 * caller decides).
 *
 * The policy (spin_for_probing): no spin when the peer's receiver is parked
 * (our request just woke it: the reply is a wake-up away, which costs less
 * parked than spun), else spin when the last reply to an awake receiver
 * came within the budget. Every 32nd call that did not spin spins all the
 * same: a receiver parks at once when its last wait was long, and a caller
 * that does not spin makes the next wait long (its reply, then its next
 * request, come a wake-up later), so two fast peers could otherwise keep
 * each other slow; one spun reply sends the next request at once and the
 * receiver learns. A server that became fast is found the same way. */
static bool wait_done(struct rpal_conn *c, const struct rpal_call_slot *s, int64_t spin_ns,
                      struct limit *lim)
{
    bool asleep = atomic_load_explicit(&c->peer->rx_parked, memory_order_relaxed) != 0;
    bool policy = spin_ns < 0; /* else the caller chose the spin: it is kept whole */
    bool learn = !asleep && policy; /* a parked receiver's reply says nothing of the next */
    if (policy)
        spin_ns = spin_for_probing(&c->reply_spin, asleep);
    struct conn_wait cw;
    conn_wait_init(&cw, c, &c->peer->ctl_out.tail, &c->self->callers_parked, reply_done, now_ns());
    cw.arg = s;
    int64_t start = cw.w.clock;
    int64_t spin_end = start + spin_ns;
    int64_t deadline = lim ? limit_deadline(lim) : spin_end;
    bool done = wait_for(&cw.w, spin_end < deadline ? spin_end : deadline, deadline, policy) == 0;
    if (cw.w.parks)
        atomic_fetch_add_explicit(&c->st_parks, cw.w.parks, memory_order_relaxed);
    else if (done)
        atomic_fetch_add_explicit(&c->st_spins, 1, memory_order_relaxed);
    /* A spun reply is learnt from the spin's last clock read (at most a few
     * microseconds early: no clock read on the reply's path); a parked one
     * from the read after its park; a wait that reached its limit after
     * spinning, as longer than the spin (no spin next). */
    if (learn && (done || spin_ns > 0))
        spin_learn(&c->reply_spin, cw.w.clock - start);
    return done;
}

/* The outcome of a call whose slot is DONE, for its caller; frees the slot. */
static void take_done(struct rpal_conn *c, uint32_t idx, struct rpal_completion *out)
{
    struct rpal_call_slot *s = &c->calls[idx];
    out->user_data = s->user_data;
    out->res = s->res;
    out->reserved = 0;
    if (s->res == 0)
        out->reply = s->reply;
    else
        memset(&out->reply, 0, sizeof out->reply);
    claim(s, CALL_DONE, CALL_FREE);
    slot_put(c, idx);
}

/* A call started as a blocking one (its reply marks the slot DONE, nothing
 * is queued and no epoll waiter is told), waited for as wait_done() does
 * (spin_ns, then parked until the limit wait); when no reply came by then it turns into
 * a submitted one (SYNC -> ASYNC, one CAS against the drain's SYNC ->
 * FILLING). 1 with *done, 0 (submitted), or call_start()'s error. */
static int call_then_submit(struct rpal_conn *c, const struct rpal_msg *req, uint64_t user_data,
                            struct limit *start, int64_t spin_ns, struct limit *wait,
                            uint64_t *id, struct rpal_completion *done)
{
    uint64_t cid = 0;
    int rc = call_start(c, req, CALL_SYNC, user_data, &cid, start);
    if (rc < 0)
        return rc;
    if (id)
        *id = cid;
    uint32_t idx = (uint32_t)cid - 1;
    struct rpal_call_slot *s = &c->calls[idx];
    if (wait_done(c, s, spin_ns, wait)) {
        take_done(c, idx, done);
        return 1;
    }
    /* counted before the CAS, so that the completion, once queued, is never
     * taken (and uncounted) before it was counted */
    if (atomic_fetch_add(&c->async_pending, 1) == 0)
        ep_wake_conn(c); /* a waiter parked without watching this connection: re-park */
    if (claim(s, CALL_SYNC, CALL_ASYNC))
        return 0;
    atomic_fetch_sub(&c->async_pending, 1);
    /* its reply (or the connection's end) is being written: it is ours */
    while (atomic_load_explicit(&s->state, memory_order_acquire) != CALL_DONE)
        cpu_relax();
    take_done(c, idx, done);
    return 1;
}

RPAL_API int rpal_call_submit_spin(struct rpal_conn *c, const struct rpal_msg *req,
                                   uint64_t user_data, int64_t spin_ns, uint64_t *id,
                                   struct rpal_completion *done)
{
    if (!c || !req || !done || (req->flags & ~RPAL_MSG_DONTWAIT))
        return -EINVAL;
    struct limit start = limit_at(send_deadline(req, DEADLINE_NONE));
    return call_then_submit(c, req, user_data, &start, spin_ns, NULL, id, done); /* the spin only */
}

RPAL_API int rpal_call_submit_wait(struct rpal_conn *c, const struct rpal_msg *req,
                                   uint64_t user_data, int timeout_ms, uint64_t *id,
                                   struct rpal_completion *done)
{
    if (!c || !req || !done || req->flags)
        return -EINVAL;
    struct limit lim = limit_ms(timeout_ms);
    return call_then_submit(c, req, user_data, &lim, -1, &lim, id, done);
}

RPAL_API int rpal_call_complete(struct rpal_conn *c, struct rpal_completion *out)
{
    if (!c || !out)
        return -EINVAL;
    /* nothing queued and nothing to drain: no lock, so a caller may poll (a
     * short spin for its own completion) without contending with the others */
    if (!atomic_load_explicit(&c->cq_count, memory_order_acquire) &&
        (!try_drain_ctl(c, true) || !atomic_load_explicit(&c->cq_count, memory_order_acquire))) {
        int dead = atomic_load(&c->dead);
        return dead ? dead : -EAGAIN;
    }
    pthread_mutex_lock(&c->call_lock);
    uint32_t head = c->cq_head;
    if (!head) {
        pthread_mutex_unlock(&c->call_lock);
        int dead = atomic_load(&c->dead);
        return dead ? dead : -EAGAIN;
    }
    struct rpal_call_slot *s = &c->calls[head - 1];
    c->cq_head = atomic_load_explicit(&s->next, memory_order_relaxed);
    if (!c->cq_head)
        c->cq_tail = 0;
    atomic_fetch_sub(&c->cq_count, 1);
    atomic_fetch_sub(&c->async_pending, 1);
    out->user_data = s->user_data;
    out->res = s->res;
    out->reserved = 0;
    out->reply = s->reply;
    pthread_mutex_unlock(&c->call_lock);
    slot_put(c, head - 1);
    return 0;
}

/* Sync wait for call idx: spin, then park on the peer's ctl tail. */
RPAL_API int rpal_call(struct rpal_conn *c, const struct rpal_msg *req, struct rpal_msg *reply,
                       int timeout_ms)
{
    if (!c || !req || !reply || req->flags)
        return -EINVAL;
    struct limit lim = limit_ms(timeout_ms);
    uint64_t id = 0;
    int rc = call_start(c, req, CALL_SYNC, 0, &id, &lim);
    if (rc < 0)
        return rc;
    uint32_t idx = (uint32_t)id - 1;
    struct rpal_call_slot *s = &c->calls[idx];
    if (!wait_done(c, s, -1, &lim)) {
        if (claim(s, CALL_SYNC, CALL_ABANDONED))
            return -ETIMEDOUT;
        /* its reply (or the connection's end) is being written: take it */
        while (atomic_load_explicit(&s->state, memory_order_acquire) != CALL_DONE)
            cpu_relax();
    }
    rc = s->res;
    if (rc == 0)
        *reply = s->reply;
    claim(s, CALL_DONE, CALL_FREE);
    slot_put(c, idx);
    return rc;
}
