/* SPDX-License-Identifier: MIT */
/*
 * rpal_epoll: epoll that also reports RPAL events.
 *
 * An instance is two kernel epoll fds:
 *   user  the fd the caller gets; ordinary fds live here with their data
 *   wait  the only fd we block on: holds user (data 0) and our internal fds
 *         with tagged data: each connection's socket (wake-up bytes, end of
 *         the peer) and pidfd, and the set's own wake eventfd
 * so the caller's epoll_data is never confused with ours, and a parked
 * waiter wakes straight from a wake-up byte (no second epoll level).
 *
 * Waiting: look at the rings of the connections in the set (taking their
 * replies and releases on the way); if nothing is ready, spin for the spin
 * budget (looking at ordinary fds every 20 us), then raise each connection's
 * rx_parked flag, look once more, and block on the wait fd. A sender that
 * publishes after our look sees the flag and sends a wake-up byte.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#define FD_POLL_NS 20000
#define MAX_EPS 256
/* Events of the wait fd taken by one look (a park or a poll). */
#define WAIT_EVENTS 16

enum { TAG_WAKE = 1, TAG_PIDFD = 2, TAG_SOCKET = 3 };

struct rpal_ep {
    int user, wait;
    int wake;                   /* eventfd: wakes a parked waiter from this process */
    pthread_mutex_t lock;       /* conns */
    struct rpal_conn **conns;
    int nconns, cap;
    uint64_t gen;               /* bumped when conns changes */
    unsigned rr;                /* round-robin start of collect() */
    _Atomic int64_t next_fd_poll; /* when ordinary fds are next looked at */
    /* What woke the last park and is not handled yet (under lock): taken before the next
     * park, off the latency path, or dropped by a poll of the wait fd, which sees it again */
    struct epoll_event woke[WAIT_EVENTS];
    _Atomic int nwoke;
    struct spin_policy spin;    /* waits for events (rpal_epoll_wait) */
};

static struct {
    _Atomic int fd;
    struct rpal_ep *_Atomic ep;
} s_eps[MAX_EPS];
static pthread_mutex_t s_eps_lock = PTHREAD_MUTEX_INITIALIZER;

static struct rpal_ep *ep_lookup(int fd)
{
    for (int i = 0; i < MAX_EPS; i++)
        if (atomic_load_explicit(&s_eps[i].fd, memory_order_acquire) == fd + 1)
            return atomic_load_explicit(&s_eps[i].ep, memory_order_acquire);
    return NULL;
}

RPAL_API int rpal_epoll_create(int flags)
{
    struct rpal_ep *ep = calloc(1, sizeof *ep);
    if (!ep)
        return -ENOMEM;
    pthread_mutex_init(&ep->lock, NULL);
    ep->user = epoll_create1(flags);
    ep->wait = epoll_create1(EPOLL_CLOEXEC);
    ep->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int rc = 0;
    if (ep->user < 0 || ep->wait < 0 || ep->wake < 0)
        rc = -errno;
    struct epoll_event e = {.events = EPOLLIN};
    if (!rc) {
        e.data.u32 = 0;
        if (epoll_ctl(ep->wait, EPOLL_CTL_ADD, ep->user, &e) < 0)
            rc = -errno;
        e.data.u64 = TAG_WAKE;
        if (!rc && epoll_ctl(ep->wait, EPOLL_CTL_ADD, ep->wake, &e) < 0)
            rc = -errno;
    }
    if (!rc) {
        pthread_mutex_lock(&s_eps_lock);
        rc = -EMFILE;
        for (int i = 0; i < MAX_EPS; i++) {
            if (atomic_load(&s_eps[i].fd) == 0) {
                atomic_store(&s_eps[i].ep, ep);
                atomic_store_explicit(&s_eps[i].fd, ep->user + 1, memory_order_release);
                rc = 0;
                break;
            }
        }
        pthread_mutex_unlock(&s_eps_lock);
    }
    if (rc) {
        for (int *f = &ep->user; f <= &ep->wake; f++)
            if (*f >= 0)
                close(*f);
        pthread_mutex_destroy(&ep->lock);
        free(ep);
        return rc;
    }
    return ep->user;
}

static int internal_ctl(struct rpal_ep *ep, int op, int fd, struct rpal_conn *c, int tag)
{
    struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP,
                            .data.u64 = (uint64_t)(uintptr_t)c | (uint64_t)tag};
    return epoll_ctl(ep->wait, op, fd, &e) < 0 ? -errno : 0;
}

static void ep_remove(struct rpal_ep *ep, struct rpal_conn *c)
{
    pthread_mutex_lock(&ep->lock);
    for (int i = 0; i < ep->nconns; i++) {
        if (ep->conns[i] == c) {
            ep->conns[i] = ep->conns[--ep->nconns];
            ep->gen++;
            break;
        }
    }
    for (int i = 0; i < ep->nwoke;) /* c may be freed before they would be handled */
        if ((ep->woke[i].data.u64 & ~(uint64_t)7) == (uint64_t)(uintptr_t)c)
            ep->woke[i] = ep->woke[--ep->nwoke];
        else
            i++;
    pthread_mutex_unlock(&ep->lock);
    internal_ctl(ep, EPOLL_CTL_DEL, c->pidfd, c, TAG_PIDFD);
    internal_ctl(ep, EPOLL_CTL_DEL, c->fd, c, TAG_SOCKET);
    c->ep = NULL;
}

RPAL_API int rpal_epoll_close(int epfd)
{
    pthread_mutex_lock(&s_eps_lock);
    struct rpal_ep *ep = NULL;
    for (int i = 0; i < MAX_EPS; i++) {
        if (atomic_load(&s_eps[i].fd) == epfd + 1) {
            ep = atomic_load(&s_eps[i].ep);
            atomic_store(&s_eps[i].fd, 0);
            atomic_store(&s_eps[i].ep, NULL);
            break;
        }
    }
    pthread_mutex_unlock(&s_eps_lock);
    if (!ep)
        return -EBADF;
    while (ep->nconns)
        ep_remove(ep, ep->conns[0]);
    close(ep->user);
    close(ep->wait);
    close(ep->wake);
    pthread_mutex_destroy(&ep->lock);
    free(ep->conns);
    free(ep);
    return 0;
}

void ep_forget_conn(struct rpal_conn *c)
{
    if (c->ep)
        ep_remove(c->ep, c);
}

static int ctl_conn(struct rpal_ep *ep, int op, struct rpal_conn *c, struct epoll_event *ev)
{
    const uint32_t rpal_bits = EPOLLRPALIN | EPOLLRPALREPLY | EPOLLRPALHUP | EPOLLRPALOUT;
    if (op == EPOLL_CTL_DEL) {
        if (c->ep != ep)
            return -ENOENT;
        ep_remove(ep, c);
        return 0;
    }
    if (!ev || (ev->events & (EPOLLET | EPOLLONESHOT)) || (ev->events & ~(rpal_bits | EPOLLIN)))
        return -EINVAL;
    uint32_t mask = ev->events & rpal_bits;
    if (op == EPOLL_CTL_MOD) {
        if (c->ep != ep)
            return -ENOENT;
        c->ep_events = mask ? mask : rpal_bits;
        c->ep_data = ev->data.u64;
        return 0;
    }
    if (op != EPOLL_CTL_ADD)
        return -EINVAL;
    if (c->ep)
        return c->ep == ep ? -EEXIST : -EBUSY;
    pthread_mutex_lock(&ep->lock);
    if (ep->nconns == ep->cap) {
        int cap = ep->cap ? ep->cap * 2 : 8;
        struct rpal_conn **t = realloc(ep->conns, (size_t)cap * sizeof *t);
        if (!t) {
            pthread_mutex_unlock(&ep->lock);
            return -ENOMEM;
        }
        ep->conns = t;
        ep->cap = cap;
    }
    c->ep_events = mask ? mask : rpal_bits;
    c->ep_data = ev->data.u64;
    c->ep = ep;
    ep->conns[ep->nconns++] = c;
    ep->gen++;
    pthread_mutex_unlock(&ep->lock);
    int rc = internal_ctl(ep, EPOLL_CTL_ADD, c->pidfd, c, TAG_PIDFD);
    if (!rc)
        rc = internal_ctl(ep, EPOLL_CTL_ADD, c->fd, c, TAG_SOCKET);
    if (rc) {
        ep_remove(ep, c);
        return rc;
    }
    /* a waiter parked before this ADD did not raise c's rx_parked: wake it
     * so it parks again, this time on c too */
    uint64_t one = 1;
    if (write(ep->wake, &one, sizeof one) < 0 && errno != EAGAIN)
        rpal_log(LOG_WARN, RPAL_LOG_WAKE_FAILED, "wake eventfd: %s", strerror(errno));
    return 0;
}

RPAL_API int rpal_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    struct rpal_ep *ep = ep_lookup(epfd);
    struct rpal_conn *c = conn_by_fd(fd);
    if (c)
        return ep ? ctl_conn(ep, op, c, ev) : -EINVAL;
    return epoll_ctl(epfd, op, fd, ev) < 0 ? -errno : 0;
}

/* The level-triggered RPAL events of connection c. A quick look (most looks
 * of a spin: SPIN_THOROUGH_LOOKS) reads only the entries a message or a
 * reply arrives in, and the completion count. */
static uint32_t conn_events(struct rpal_conn *c, bool thorough)
{
    uint32_t ev = 0;
    if (!atomic_load_explicit(&c->dead, memory_order_relaxed) && thorough && conn_peer_gone(c, false))
        conn_fail(c, -ECONNRESET);
    if (atomic_load_explicit(&c->dead, memory_order_relaxed)) {
        ev |= EPOLLRPALHUP;
    } else if (!thorough) {
        try_drain_ctl(c, false);
        if (ring_entry_ready(c, 0))
            ev |= EPOLLRPALIN;
    } else {
        progress(c, true);
        if (ring_ready(c, 0))
            ev |= EPOLLRPALIN;
        if ((c->ep_events & EPOLLRPALOUT) && atomic_load_explicit(&c->want_room, memory_order_relaxed) &&
            calls_room_ready(c)) /* the flag first: no call per look of a spin */
            ev |= EPOLLRPALOUT;
    }
    if (atomic_load_explicit(&c->cq_count, memory_order_relaxed))
        ev |= EPOLLRPALREPLY;
    return ev & c->ep_events;
}

/* Level-triggered RPAL events of the set, at most max (thorough: conn_events). */
static int collect_locked(struct rpal_ep *ep, struct epoll_event *out, int max, bool thorough)
{
    int n = 0;
    /* start where the last look stopped, so a busy connection early in the
     * set cannot starve the others when max is small */
    int start = ep->rr < (unsigned)ep->nconns ? (int)ep->rr : 0;
    ep->rr = (unsigned)start + 1;
    for (int k = 0, i = start; k < ep->nconns && n < max; k++, i = i + 1 < ep->nconns ? i + 1 : 0) {
        struct rpal_conn *c = ep->conns[i]; /* no division: this loop is what a waiter spins on */
        uint32_t ev = conn_events(c, thorough);
        if (ev) {
            out[n].events = ev;
            out[n].data.u64 = c->ep_data;
            n++;
        }
    }
    return n;
}

static int collect(struct rpal_ep *ep, struct epoll_event *out, int max)
{
    pthread_mutex_lock(&ep->lock);
    int n = collect_locked(ep, out, max, true);
    pthread_mutex_unlock(&ep->lock);
    return n;
}

/* rx_parked counts the waiters parked on a connection, so one waiter
 * waking does not hide another that still sleeps. The set may change while
 * we sleep: `gen` tells, and then only the connections still in it that we
 * counted get the matching decrement. */
struct parking {
    struct rpal_conn **conns;
    int n;
    uint64_t gen;
    struct rpal_conn *small[32];
};

static void park(struct rpal_ep *ep, struct parking *pk)
{
    pthread_mutex_lock(&ep->lock);
    pk->conns = pk->small;
    if (ep->nconns > 32 && !(pk->conns = malloc((size_t)ep->nconns * sizeof *pk->conns)))
        pk->conns = pk->small; /* out of memory: park on the first 32, poll the rest */
    pk->n = pk->conns == pk->small && ep->nconns > 32 ? 32 : ep->nconns;
    pk->gen = ep->gen;
    int flagged = 0;
    for (int i = 0; i < ep->nconns && flagged < pk->n; i++) {
        struct rpal_conn *c = ep->conns[i];
        /* A waiter for completions only (no EPOLLRPALIN) is woken by the peer only while it
         * has submitted calls in flight: the replies of blocking callers, which wake those
         * callers themselves, do not also wake it. Its end still wakes us (pidfd, socket). */
        if (!(c->ep_events & EPOLLRPALIN) && !atomic_load(&c->async_pending))
            continue;
        pk->conns[flagged++] = c;
        atomic_fetch_add(&c->self->rx_parked, 1);
    }
    pk->n = flagged;
    pthread_mutex_unlock(&ep->lock);
}

/* Also keeps the k events of the wait fd that ended the park. The rings are
 * looked at first: a wake-up byte usually means a message, which is returned
 * before the byte is taken (the socket stays readable until then); the rest
 * is handled before the next park (take_woke). The park looked at every fd,
 * so the next look at ordinary fds waits FD_POLL_NS, unless w was full. */
static void unpark(struct rpal_ep *ep, struct parking *pk, const struct epoll_event *w, int k,
                   int64_t now)
{
    pthread_mutex_lock(&ep->lock);
    if (k > 0) {
        for (int i = 0; i < k && ep->nwoke < WAIT_EVENTS; i++)
            ep->woke[ep->nwoke++] = w[i];
        if (k < WAIT_EVENTS)
            atomic_store_explicit(&ep->next_fd_poll, now + FD_POLL_NS, memory_order_relaxed);
    }
    for (int i = 0; i < pk->n; i++) {
        bool member = pk->gen == ep->gen;
        for (int j = 0; !member && j < ep->nconns; j++)
            member = ep->conns[j] == pk->conns[i];
        if (member) {
            atomic_fetch_sub(&pk->conns[i]->self->rx_parked, 1);
            atomic_fetch_add_explicit(&pk->conns[i]->st_parks, 1, memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&ep->lock);
    if (pk->conns != pk->small)
        free(pk->conns);
}

/* Takes the wake-up bytes queued on a connection's socket; false when the
 * socket has ended (the peer closed or died). Bounded, so a peer that
 * floods bytes cannot keep us here; level-triggered epoll brings us back. */
static bool drain_socket(struct rpal_conn *c)
{
    /* one system call takes up to 64 wake-up bytes (each is its own datagram) */
    char buf[64];
    struct iovec iov[64];
    struct mmsghdr msgs[64];
    for (int i = 0; i < 64; i++) {
        iov[i] = (struct iovec){.iov_base = &buf[i], .iov_len = 1};
        msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
    }
    int n = recvmmsg(c->fd, msgs, 64, MSG_DONTWAIT, NULL);
    return n >= 0 || errno == EAGAIN || errno == EINTR;
}

/* Handles one of our events from the wait fd: wake-up bytes, dead peers,
 * self-wakes. */
static void internal_event(struct rpal_ep *ep, const struct epoll_event *ev)
{
    int tag = (int)(ev->data.u64 & 7);
    struct rpal_conn *c = (struct rpal_conn *)(uintptr_t)(ev->data.u64 & ~(uint64_t)7);
    if (tag == TAG_WAKE) {
        uint64_t v;
        if (read(ep->wake, &v, sizeof v) < 0 && errno != EAGAIN)
            rpal_log(LOG_WARN, RPAL_LOG_WAKE_FAILED, "wake eventfd: %s", strerror(errno));
        return;
    }
    if (tag == TAG_SOCKET && !(ev->events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && drain_socket(c))
        return;
    conn_fail(c, -ECONNRESET);
    if (tag == TAG_PIDFD)
        conn_retire(c); /* the socket may have told us first */
    /* keep it from waking us again and again until it is released */
    epoll_ctl(ep->wait, EPOLL_CTL_DEL, tag == TAG_PIDFD ? c->pidfd : c->fd, NULL);
}

/* Handles what the wait fd reported; true when ordinary fds are ready. */
static bool wait_events(struct rpal_ep *ep, const struct epoll_event *w, int k)
{
    bool user = false;
    for (int i = 0; i < k; i++) {
        if (w[i].data.u64 == 0)
            user = true;
        else
            internal_event(ep, &w[i]);
    }
    return user;
}

/* Wakes the waiter of the set holding c (if any), e.g. to report c's end. */
void ep_wake_conn(struct rpal_conn *c)
{
    struct rpal_ep *ep = c->ep;
    uint64_t one = 1;
    if (ep && write(ep->wake, &one, sizeof one) < 0 && errno != EAGAIN)
        rpal_log(LOG_WARN, RPAL_LOG_WAKE_FAILED, "wake eventfd: %s", strerror(errno));
}

/* Handles k events of the wait fd; when they say ordinary fds are ready,
 * takes those (at most max) into out and returns how many. */
static int fd_events(struct rpal_ep *ep, const struct epoll_event *w, int k,
                     struct epoll_event *out, int max)
{
    if (k <= 0 || !wait_events(ep, w, k) || max <= 0)
        return 0;
    int m = epoll_wait(ep->user, out, max, 0);
    return m > 0 ? m : 0;
}

/* Non-blocking look at ordinary fds and internal fds. What the last park
 * left is dropped: the wait fd is level-triggered, so the look sees it again. */
static int poll_fds(struct rpal_ep *ep, struct epoll_event *out, int max)
{
    struct epoll_event w[WAIT_EVENTS];
    pthread_mutex_lock(&ep->lock);
    ep->nwoke = 0;
    pthread_mutex_unlock(&ep->lock);
    return fd_events(ep, w, epoll_wait(ep->wait, w, WAIT_EVENTS, 0), out, max);
}

/* poll_fds on the schedule: at most every FD_POLL_NS, so that a busy RPAL
 * stream makes one system call per 20 us, not one per message. -1 when not
 * due yet. */
static int poll_fds_due(struct rpal_ep *ep, int64_t now, struct epoll_event *out, int max)
{
    if (now < atomic_load_explicit(&ep->next_fd_poll, memory_order_relaxed))
        return -1;
    atomic_store_explicit(&ep->next_fd_poll, now + FD_POLL_NS, memory_order_relaxed);
    return poll_fds(ep, out, max);
}

/* Handles what woke the last park (no system call to find it again). */
static int take_woke(struct rpal_ep *ep, struct epoll_event *out, int max)
{
    struct epoll_event w[WAIT_EVENTS];
    pthread_mutex_lock(&ep->lock);
    int k = ep->nwoke;
    memcpy(w, ep->woke, (size_t)k * sizeof *w);
    ep->nwoke = 0;
    pthread_mutex_unlock(&ep->lock);
    return fd_events(ep, w, k, out, max);
}

/* rpal_epoll_wait's wait (wait_for runs it): a look collects the RPAL events
 * of the set into events; a spin holds the set's lock (rpal_epoll_ctl on this
 * set waits at most one spin budget) and looks at ordinary fds every
 * FD_POLL_NS, so that a busy RPAL stream makes one system call per 20 us, not
 * one per message; a park raises each connection's rx_parked flag, looks once
 * more, and blocks on the wait fd. */
struct set_wait {
    struct wait w;
    struct rpal_ep *ep;
    struct epoll_event *events;
    int max, n;
};

#define SET_WAIT(w) ((struct set_wait *)(w))
/* The clock is read every this many looks of a set's spin (a look covers every connection). */
#define SET_CLOCK_LOOKS 32

static bool set_done(struct wait *w, uint32_t look)
{
    struct set_wait *sw = SET_WAIT(w);
    if (look != WAIT_SETTLE) { /* a look of a spin, under the lock */
        sw->n = collect_locked(sw->ep, sw->events, sw->max, look % SPIN_THOROUGH_LOOKS == 0);
        return sw->n > 0;
    }
    /* Before a park, and after one: the rings first (the message a wake-up
     * byte announced is returned before the byte is taken), then, when they
     * have nothing, what woke the last park (a look without the lock: a miss
     * is caught by the park, which returns at once). */
    sw->n = collect(sw->ep, sw->events, sw->max);
    if (sw->n == 0 && atomic_load_explicit(&sw->ep->nwoke, memory_order_relaxed)) {
        sw->n = take_woke(sw->ep, sw->events, sw->max);
        if (sw->n == 0)
            sw->n = collect(sw->ep, sw->events, sw->max); /* a death just handled */
    }
    return sw->n > 0;
}

/* Ordinary fds (and the internal ones: wake-up bytes, deaths) when due. */
static bool set_tick(struct wait *w, int64_t now)
{
    struct set_wait *sw = SET_WAIT(w);
    int n = poll_fds_due(sw->ep, now, sw->events, sw->max);
    if (n < 0)
        return false;
    sw->n = n ? n : collect(sw->ep, sw->events, sw->max); /* a wake-up or death just handled */
    return sw->n > 0;
}

static int set_park(struct wait *w, int64_t ns)
{
    struct set_wait *sw = SET_WAIT(w);
    struct rpal_ep *ep = sw->ep;
    struct parking pk;
    park(ep, &pk);
    atomic_thread_fence(memory_order_seq_cst);
    sw->n = collect(ep, sw->events, sw->max);
    if (sw->n > 0) {
        unpark(ep, &pk, NULL, 0, 0); /* events came as it was about to sleep: no wait to count */
        return 1;
    }
    int64_t ms = ns / 1000000 + (ns % 1000000 != 0);
    struct epoll_event ev[WAIT_EVENTS];
    int k = g_backend->park_set(ep->wait, ev, WAIT_EVENTS, ms > INT32_MAX ? INT32_MAX : (int)ms);
    w->parks++;
    w->clock = now_ns();
    unpark(ep, &pk, ev, k, w->clock);
    return k < 0 ? k : 0;
}

static const struct wait_ops s_set_wait_ops = {
    .done = set_done,
    .tick = set_tick,
    .park = set_park,
};

RPAL_API int rpal_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout_ms)
{
    struct rpal_ep *ep = ep_lookup(epfd);
    if (!ep) {
        int n = epoll_wait(epfd, events, maxevents, timeout_ms);
        return n < 0 ? -errno : n;
    }
    if (!events || maxevents <= 0)
        return -EINVAL;
    struct set_wait sw = {
        .w = {.ops = &s_set_wait_ops, .spin_lock = &ep->lock, .clock_looks = SET_CLOCK_LOOKS,
              .clock = now_ns()},
        .ep = ep,
        .events = events,
        .max = maxevents,
    };
    int64_t start = sw.w.clock;
    int64_t deadline = timeout_ms < 0 ? DEADLINE_NONE : start + (int64_t)timeout_ms * 1000000;
    /* the spin policy (spin_for): spin only when the last wait ended within the budget */
    int rc = wait_for(&sw.w, start + spin_for(&ep->spin), deadline, true);
    /* RPAL events found at once, call after call, would keep the spin's
     * schedule from ever coming: ordinary fds are looked at here too, by the
     * clock of the wait's last look (its start, when the first look found
     * events: no clock read after the events are found) */
    if (rc == 0 && sw.n < maxevents) {
        int n = poll_fds_due(ep, sw.w.clock, events + sw.n, maxevents - sw.n);
        sw.n += n > 0 ? n : 0;
    }
    if (timeout_ms != 0) /* a poll says nothing about when events come */
        spin_learn(&ep->spin, sw.w.clock - start);
    if (rc == -ETIMEDOUT)
        return 0;
    return rc < 0 ? rc : sw.n;
}
