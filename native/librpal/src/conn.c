/* SPDX-License-Identifier: MIT */
/* Connections: creation, the peer's mapping, failure, release, lent buffers. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* Peer mappings (g_rt.peers) and the fd table change under this lock; it is
 * taken on slow paths only. */
static pthread_mutex_t s_map_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rpal_conn **s_by_fd;
static int s_by_fd_cap;

int conn_new(bool accepted, struct rpal_conn **out)
{
    struct rpal_conn *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->fd = c->pidfd = -1;
    c->peer_slot = -1;
    pthread_mutex_init(&c->call_lock, NULL);
    pthread_cond_init(&c->call_cond, NULL);
    pthread_mutex_init(&c->drain_lock, NULL);
    pthread_mutex_init(&c->lent_lock, NULL);
    pthread_mutex_init(&c->backlog_lock, NULL);
    uint32_t entries = g_rt.opt.ring_entries;
    /* + a cache line: the block's payload is 16-byte aligned, the shared
     * block must be 64-byte aligned */
    size_t need = conn_shm_size(entries) + RPAL_CACHELINE;
    uint64_t bytes = arena_block_bytes(need);
    if (!bytes || !limits_take_conn_bytes(bytes, accepted)) {
        conn_destroy(c);
        return -ENOSPC;
    }
    c->self_bytes = bytes;
    c->self_buf = arena_alloc_block(need);
    if (!c->self_buf || calls_init(c, g_rt.opt.max_calls) < 0) {
        conn_destroy(c);
        return -ENOMEM;
    }
    uintptr_t p = (uintptr_t)buf_payload(c->self_buf);
    c->self = (struct rpal_conn_shm *)((p + RPAL_CACHELINE - 1) & ~(uintptr_t)(RPAL_CACHELINE - 1));
    memset(c->self, 0, conn_shm_size(entries));
    c->self->ring_entries = entries;
    if (getrandom(&c->self->incarnation, sizeof c->self->incarnation, 0) !=
        sizeof c->self->incarnation) {
        conn_destroy(c);
        return -EIO;
    }
    c->self->magic = RPAL_MAGIC;
    pthread_mutex_lock(&g_rt.lock);
    c->serial = ++g_rt.next_serial;
    pthread_mutex_unlock(&g_rt.lock);
    *out = c;
    return 0;
}

int conn_attach_peer(struct rpal_conn *c, const struct rpal_hs_msg *m, int arena_fd)
{
    struct stat st;
    if (fstat(arena_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        rpal_log(LOG_ERR, RPAL_LOG_HANDSHAKE_INVALID,
                 "peer %d sent an arena that is not a memfd", (int)c->peer_pid);
        return -EBADFD;
    }
    int seals = fcntl(arena_fd, F_GET_SEALS);
    int need = F_SEAL_SHRINK | F_SEAL_GROW;
    if (seals < 0 || (seals & need) != need) {
        rpal_log(LOG_ERR, RPAL_LOG_HANDSHAKE_INVALID,
                 "peer %d sent an unsealed arena (seals %#x)", (int)c->peer_pid, seals);
        return -EBADFD;
    }
    if ((uint64_t)st.st_size != m->arena_size) {
        rpal_log(LOG_ERR, RPAL_LOG_HANDSHAKE_INVALID,
                 "peer %d arena is %lld bytes, it announced %llu", (int)c->peer_pid,
                 (long long)st.st_size, (unsigned long long)m->arena_size);
        return -EBADFD;
    }
    pthread_mutex_lock(&s_map_lock);
    struct rpal_peer_map *pm = &g_rt.peers[m->slot];
    /* Another connection to the same arena (the same sealed memfd, so the
     * same size) has it mapped already: mapping it again would replace the
     * mapping and drop its page tables, and every connection to that peer
     * would fault its pages back in (N connections from one process: N^2
     * faults). */
    bool mapped = pm->refs && !pm->retired && pm->dev == st.st_dev && pm->ino == st.st_ino;
    int rc = mapped ? 0 : g_backend->map_peer(&g_rt, m->slot, arena_fd, m->arena_size);
    if (rc == 0) {
        pm->retired = false;
        if (pm->refs && (pm->dev != st.st_dev || pm->ino != st.st_ino))
            rpal_log(LOG_INFO, RPAL_LOG_SLOT_REUSED,
                     "slot %d now belongs to pid %d", m->slot, (int)c->peer_pid);
        pm->refs++;
        pm->dev = st.st_dev;
        pm->ino = st.st_ino;
        c->peer_dev = st.st_dev;
        c->peer_ino = st.st_ino;
    }
    pthread_mutex_unlock(&s_map_lock);
    if (rc < 0)
        return rc;
    c->peer_slot = m->slot;
    c->peer_base = (uintptr_t)(g_rt.opt.window_base + (uint64_t)m->slot * g_rt.opt.slot_size);
    c->peer_size = m->arena_size;
    c->peer_entries = m->ring_entries;
    c->peer = (const struct rpal_conn_shm *)(c->peer_base + m->conn_off);
    /* the ring arrays follow the peer's block; use the announced entries,
     * not the peer's (writable by it) copy */
    c->peer_req = (const struct rpal_desc *)((const char *)c->peer + sizeof *c->peer);
    c->peer_ctl = c->peer_req + c->peer_entries;
    c->peer_incarnation = m->incarnation;
    if (c->peer->magic != RPAL_MAGIC || c->peer->ring_entries != m->ring_entries ||
        c->peer->incarnation != m->incarnation) {
        rpal_log(LOG_ERR, RPAL_LOG_HANDSHAKE_INVALID,
                 "peer %d connection block at offset %llu is not initialised",
                 (int)c->peer_pid, (unsigned long long)m->conn_off);
        return -EPROTO;
    }
    return 0;
}

void conn_register(struct rpal_conn *c)
{
    pthread_mutex_lock(&s_map_lock);
    if (c->fd >= s_by_fd_cap) {
        int cap = s_by_fd_cap ? s_by_fd_cap : 64;
        while (cap <= c->fd)
            cap *= 2;
        struct rpal_conn **t = realloc(s_by_fd, (size_t)cap * sizeof *t);
        if (t) {
            memset(t + s_by_fd_cap, 0, (size_t)(cap - s_by_fd_cap) * sizeof *t);
            s_by_fd = t;
            s_by_fd_cap = cap;
        }
    }
    if (c->fd < s_by_fd_cap)
        s_by_fd[c->fd] = c;
    pthread_mutex_unlock(&s_map_lock);
    pthread_mutex_lock(&g_rt.lock);
    c->next_all = g_rt.conns;
    g_rt.conns = c;
    pthread_mutex_unlock(&g_rt.lock);
}

struct rpal_conn *conn_by_fd(int fd)
{
    struct rpal_conn *c = NULL;
    pthread_mutex_lock(&s_map_lock);
    if (fd >= 0 && fd < s_by_fd_cap)
        c = s_by_fd[fd];
    pthread_mutex_unlock(&s_map_lock);
    return c;
}

bool peer_range_ok(const struct rpal_conn *c, uint64_t ptr, uint64_t len)
{
    uint64_t lo = c->peer_base + RPAL_ARENA_HEADER;
    uint64_t end = c->peer_base + c->peer_size;
    return ptr >= lo && ptr < end && len <= end - ptr;
}

static bool peer_process_dead(const struct rpal_conn *c)
{
    struct pollfd p = {.fd = c->pidfd, .events = POLLIN};
    return c->pidfd >= 0 && poll(&p, 1, 0) == 1;
}

bool conn_peer_gone(struct rpal_conn *c, bool syscall)
{
    if (atomic_load_explicit(&c->dead, memory_order_relaxed))
        return true;
    if (c->peer && (atomic_load_explicit(&c->peer->closed, memory_order_relaxed) ||
                    c->peer->incarnation != c->peer_incarnation))
        return true;
    if (!syscall)
        return false;
    /* after the handshake the socket carries only wake-up bytes: its end
     * (RDHUP/HUP) is the peer's close or death */
    struct pollfd p[2] = {{.fd = c->pidfd, .events = POLLIN},
                          {.fd = c->fd, .events = POLLRDHUP}};
    if (poll(p, 2, 0) <= 0)
        return false;
    return (p[0].revents & POLLIN) || (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void free_lent(struct rpal_conn *c)
{
    pthread_mutex_lock(&c->lent_lock);
    uint64_t off = c->lent_head;
    while (off) {
        struct rpal_buf *b = (struct rpal_buf *)(g_rt.arena + off);
        off = b->next;
        arena_free_block(b);
    }
    c->lent_head = 0;
    atomic_store(&c->st_lent_bytes, 0);
    pthread_mutex_unlock(&c->lent_lock);
}

/* Drops the peer's pages once nothing alive needs them: this connection is
 * the mapping's only user, or the peer process is dead (then all its
 * connections are). The range stays readable (zeros) until release, so a
 * handler still reading a payload does not fault. */
void conn_retire(struct rpal_conn *c)
{
    if (!c->peer || c->retired)
        return;
    pthread_mutex_lock(&s_map_lock);
    struct rpal_peer_map *pm = &g_rt.peers[c->peer_slot];
    /* the slot may already hold a newer process's arena: leave that alone */
    bool ours = pm->dev == c->peer_dev && pm->ino == c->peer_ino;
    if (!c->retired && ours && (pm->refs == 1 || peer_process_dead(c))) {
        g_backend->retire_peer(&g_rt, c->peer_slot, c->peer_size);
        c->retired = true;
        pm->retired = true;
    }
    pthread_mutex_unlock(&s_map_lock);
}

void conn_fail(struct rpal_conn *c, int err)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&c->dead, &expected, err))
        return;
    rpal_log(err == -ECONNRESET ? LOG_INFO : LOG_ERR, RPAL_LOG_CONN_ENDED,
             "connection %s to pid %d ended: %s",
             c->name, (int)c->peer_pid, strerror(-err));
    calls_fail_all(c, err);
    free_lent(c);
    if (c->peer) {
        /* our threads parked on the peer's words: wake them before the
         * mapping may go away */
        g_backend->wake_word(&c->peer->ctl_out.tail);
        g_backend->wake_word(&c->peer->req_in.tail);
        g_backend->wake_word(&c->peer->ctl_in.tail);
        conn_retire(c);
    }
    /* our own epoll waiter: let it see EPOLLRPALHUP */
    ep_wake_conn(c);
}

void conn_destroy(struct rpal_conn *c)
{
    if (c->peer_slot >= 0) {
        pthread_mutex_lock(&s_map_lock);
        struct rpal_peer_map *pm = &g_rt.peers[c->peer_slot];
        if (pm->refs && --pm->refs == 0)
            g_backend->unmap_peer(&g_rt, c->peer_slot, c->peer_size);
        pthread_mutex_unlock(&s_map_lock);
    }
    calls_free(c);
    if (c->self_buf)
        arena_free_block(c->self_buf);
    if (c->self_bytes)
        limits_give_conn_bytes(c->self_bytes);
    if (c->fd >= 0)
        close(c->fd);
    if (c->pidfd >= 0)
        close(c->pidfd);
    pthread_mutex_destroy(&c->call_lock);
    pthread_cond_destroy(&c->call_cond);
    pthread_mutex_destroy(&c->drain_lock);
    pthread_mutex_destroy(&c->lent_lock);
    pthread_mutex_destroy(&c->backlog_lock);
    free(c->backlog);
    free(c);
}

/* Marks our end closed and wakes a peer parked in any of its waits, so that
 * it notices now rather than at its next check. */
static void announce_closed(struct rpal_conn *c)
{
    atomic_store(&c->self->closed, 1);
    atomic_thread_fence(memory_order_seq_cst);
    if (!atomic_load(&c->dead)) {
        g_backend->wake_receiver(c);
        g_backend->wake_word(&c->self->ctl_out.tail);
        g_backend->wake_word(&c->self->req_in.tail);
        g_backend->wake_word(&c->self->ctl_in.tail);
    }
}

/* Here rather than in arena.c (which never calls into the engine): when the
 * arena is full, the buffers the peers released but nobody took back yet are
 * taken back from every connection, and the allocation tried again. */
RPAL_API int rpal_alloc(size_t size, void **ptr)
{
    if (!size || !ptr)
        return -EINVAL;
    if (!g_rt.started)
        return -ENOTCONN;
    struct rpal_buf *b = arena_alloc_block(size);
    if (!b) {
        pthread_mutex_lock(&g_rt.lock);
        for (struct rpal_conn *c = g_rt.conns; c; c = c->next_all)
            try_drain_ctl(c, true);
        pthread_mutex_unlock(&g_rt.lock);
        b = arena_alloc_block(size);
    }
    if (!b)
        return -ENOMEM;
    *ptr = buf_payload(b);
    return 0;
}

RPAL_API int rpal_release_service(struct rpal_conn *c)
{
    if (!c)
        return -EINVAL;
    pthread_mutex_lock(&g_rt.lock);
    struct rpal_conn **pp = &g_rt.conns;
    while (*pp && *pp != c)
        pp = &(*pp)->next_all;
    if (!*pp) {
        pthread_mutex_unlock(&g_rt.lock);
        return -EINVAL;
    }
    *pp = c->next_all;
    pthread_mutex_unlock(&g_rt.lock);

    ep_forget_conn(c);
    announce_closed(c);
    /* serialise with a drainer that may be inside the rings */
    pthread_mutex_lock(&c->drain_lock);
    conn_fail(c, -ECONNRESET);
    pthread_mutex_unlock(&c->drain_lock);
    pthread_mutex_lock(&s_map_lock);
    if (c->fd >= 0 && c->fd < s_by_fd_cap)
        s_by_fd[c->fd] = NULL;
    pthread_mutex_unlock(&s_map_lock);
    conn_destroy(c);
    return 0;
}

RPAL_API int rpal_conn_shutdown(struct rpal_conn *c)
{
    if (!c)
        return -EINVAL;
    /* What rpal_release_service() does to the peer and to calls in flight,
     * without forgetting or freeing anything: a thread still inside this
     * connection (a handler that never returned, say) keeps valid memory,
     * and its operations fail with -ECONNRESET. The peer's pages are
     * retired by conn_fail() (zeros, still readable) when nothing else maps
     * them, as for a dead peer. */
    announce_closed(c);
    /* the socket carries only wake-ups after the handshake: its end is what
     * a peer parked in the kernel notices first */
    if (c->fd >= 0)
        shutdown(c->fd, SHUT_RDWR);
    pthread_mutex_lock(&c->drain_lock);
    conn_fail(c, -ECONNRESET);
    pthread_mutex_unlock(&c->drain_lock);
    return 0;
}

int conn_lend(struct rpal_conn *c, struct rpal_buf *b)
{
    pthread_mutex_lock(&c->lent_lock);
    int dead = atomic_load(&c->dead);
    if (!dead) {
        uint64_t off = (uint64_t)((char *)b - g_rt.arena);
        b->state = BUF_LENT;
        b->conn_serial = c->serial;
        b->prev = 0;
        b->next = c->lent_head;
        if (c->lent_head)
            ((struct rpal_buf *)(g_rt.arena + c->lent_head))->prev = off;
        c->lent_head = off;
        atomic_fetch_add(&c->st_lent_bytes, buf_capacity(b));
    }
    pthread_mutex_unlock(&c->lent_lock);
    return dead;
}

static void unlend(struct rpal_conn *c, struct rpal_buf *b)
{
    if (b->prev)
        ((struct rpal_buf *)(g_rt.arena + b->prev))->next = b->next;
    else
        c->lent_head = b->next;
    if (b->next)
        ((struct rpal_buf *)(g_rt.arena + b->next))->prev = b->prev;
    atomic_fetch_sub(&c->st_lent_bytes, buf_capacity(b));
}

/* A RELEASE from the peer: ptr must be a buffer we lent to this connection. */
void conn_take_back(struct rpal_conn *c, uint64_t ptr)
{
    pthread_mutex_lock(&c->lent_lock);
    struct rpal_buf *b = arena_buf_of((const void *)(uintptr_t)ptr, BUF_LENT);
    bool ok = b && b->conn_serial == c->serial;
    if (ok)
        unlend(c, b);
    pthread_mutex_unlock(&c->lent_lock);
    if (ok) {
        arena_free_block(b);
        return;
    }
    atomic_fetch_add(&c->st_rejected, 1);
    rpal_log(LOG_WARN, RPAL_LOG_PROTOCOL_VIOLATION,
             "%s: pid %d released %#llx, which it does not hold", c->name,
             (int)c->peer_pid, (unsigned long long)ptr);
}

/* A buffer lent with a send that then failed: take it back and free it. */
void conn_unlend_free(struct rpal_conn *c, struct rpal_buf *b)
{
    pthread_mutex_lock(&c->lent_lock);
    /* conn_fail() may have freed it already (free_lent(), e.g. from the
     * push that just failed): a freed block merged into its buddy
     * keeps a header that still says LENT, so believe the header only while
     * the block is allocated */
    bool lent = arena_buf_of(buf_payload(b), BUF_LENT) == b && b->conn_serial == c->serial;
    if (lent)
        unlend(c, b);
    pthread_mutex_unlock(&c->lent_lock);
    if (lent)
        arena_free_block(b);
}

bool conn_unlend(struct rpal_conn *c, struct rpal_buf *b)
{
    pthread_mutex_lock(&c->lent_lock);
    /* as in conn_unlend_free(): believe the header only while the block is allocated */
    bool lent = arena_buf_of(buf_payload(b), BUF_LENT) == b && b->conn_serial == c->serial;
    if (lent) {
        unlend(c, b);
        b->state = BUF_OWNED;
    }
    pthread_mutex_unlock(&c->lent_lock);
    return lent;
}

RPAL_API int rpal_conn_fd(const struct rpal_conn *c) { return c ? c->fd : -EINVAL; }

RPAL_API int rpal_conn_info(const struct rpal_conn *c, struct rpal_peer_info *info)
{
    if (!c || !info)
        return -EINVAL;
    memset(info, 0, sizeof *info);
    info->pid = c->peer_pid;
    info->uid = c->peer_uid;
    info->gid = c->peer_gid;
    info->slot = c->peer_slot;
    info->key = c->key;
    info->arena_base = c->peer_base;
    info->arena_size = c->peer_size;
    memcpy(info->name, c->name, sizeof info->name);
    return 0;
}

RPAL_API int rpal_conn_stats(const struct rpal_conn *c, struct rpal_conn_stats *s)
{
    if (!c || !s)
        return -EINVAL;
    s->sent = atomic_load(&c->st_sent);
    s->received = atomic_load(&c->st_received);
    s->rejected = atomic_load(&c->st_rejected);
    s->spins = atomic_load(&c->st_spins);
    s->parks = atomic_load(&c->st_parks);
    s->wakeups = atomic_load(&c->st_wakeups);
    s->lent_bytes = atomic_load(&c->st_lent_bytes);
    ring_depths(c, s);
    return 0;
}
