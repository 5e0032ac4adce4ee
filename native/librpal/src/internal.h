/* SPDX-License-Identifier: MIT */
/*
 * librpal internals: the shared-memory formats (docs/protocol.md describes
 * them for a second implementation), the process-global runtime and the
 * private connection state.
 *
 * Trust rule: anything in a peer's arena (its rings, descriptors, flags) is
 * written by a process we do not trust. It is read with peer_load*() (single
 * loads, never assumed stable), every position and pointer is checked before
 * use, and a lie fails one call or one connection, never this process.
 */
/*
 * Lock order. A thread holding one of these mutexes takes only mutexes further
 * down, so no two threads can each wait for a lock the other holds:
 *
 *   s_reg_lock         registry.c; over svc->accept_lock and g_rt.lock
 *   svc->accept_lock   the server's handshake (conn_new...) runs under it
 *   g_rt.lock          never held together with an ep->lock
 *   ep->lock           epoll.c: the set's waiter looks at its connections under it
 *   c->drain_lock      the drain of the peer's ctl ring
 *   c->backlog_lock    ring.c: control descriptors waiting for ring room
 *   c->lent_lock       over the arena's lock only (free_lent)
 *   leaves: c->call_lock, s_map_lock, the arena's lock, s_eps_lock
 *
 * The nesting comes from two routines that run with locks held. The drain
 * (drain_ctl) completes calls (call_lock, the arena), takes back lent buffers
 * (lent_lock), gives back replies nobody will read (rpal_release: backlog_lock)
 * and fails the connection when the peer lies. conn_fail ends the calls
 * (call_lock), frees what was lent (lent_lock) and retires the peer's mapping
 * (s_map_lock). The drain runs under drain_lock, taken under ep->lock
 * (collect_locked) and g_rt.lock (rpal_alloc reclaiming); conn_fail runs under
 * those and under backlog_lock (push() meeting a lying peer). The handshake
 * under accept_lock takes g_rt.lock, s_map_lock and the arena's lock.
 *
 * drain_lock and backlog_lock are taken with trylock where the work is
 * optional, another thread doing it already (try_drain_ctl, ring_flush_backlog):
 * a waiter never stalls a set behind a drainer. Such a take never waits, so it
 * could not close a cycle even against the order; today none goes against it.
 * Blocking takes of drain_lock (reply_done before a park, release, shutdown)
 * hold no lock.
 * Locks of one kind are never nested: one connection, set or service at a
 * time. slot_get waits on call_cond holding call_lock only (the free slots
 * themselves are a lock-free stack); futex waits hold
 * no mutex. The log sink runs under any of these: it must not enter the engine.
 */
#ifndef RPAL_INTERNAL_H
#define RPAL_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "rpal.h"

#define RPAL_API __attribute__((visibility("default")))
#define RPAL_CACHELINE 64
#define RPAL_ALIGNED __attribute__((aligned(RPAL_CACHELINE)))

#define RPAL_MAGIC 0x4c415052u   /* "RPAL" little-endian */
#define RPAL_PROTOCOL 2u         /* handshake and shared-memory format version */
#define RPAL_ARENA_HEADER 4096u  /* bytes at the start of every arena */
#define RPAL_MIN_ARENA (1u << 20)

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

static inline void cpu_relax(void) { __builtin_ia32_pause(); }

/* ------------------------------------------------------------ shared memory */

/* Descriptor kinds. */
enum {
    RPAL_DESC_CALL = 1,    /* request ring: a call; id = caller's call id */
    RPAL_DESC_ONEWAY = 2,  /* request ring: a one-way message; id = 0 */
    RPAL_DESC_REPLY = 3,   /* control ring: answer to call id */
    RPAL_DESC_RELEASE = 4, /* control ring: ptr (in the receiver's arena) is given back */
    RPAL_DESC_FAIL = 5,    /* control ring: call id failed in transport, status = -errno */
};

/* One ring entry, 64 bytes, written by the producer into its own arena.
 * ptr/len name a payload in the producer's arena (RELEASE: in the
 * consumer's arena). */
struct rpal_desc {
    uint16_t kind;
    uint16_t lap;     /* the position's lap, written by the producer last (ring.c): the entry
                         is published when it matches; kind and lap share the first word */
    int32_t status;
    uint64_t id;
    uint64_t ptr;
    uint64_t len;
    uint64_t words[RPAL_INLINE_WORDS];
};
_Static_assert(sizeof(struct rpal_desc) == 64, "descriptor is one cache line");

/* Producer side of one ring, in the producer's arena. */
struct rpal_ring_prod {
    /* Next position to reserve. Written by producer threads of the owner
     * (CAS, relaxed: only orders producers among themselves); the peer
     * never needs it. */
    RPAL_ALIGNED _Atomic uint32_t reserve;
    /* Positions below tail are published. Written by the owner's producers
     * in reservation order with release after the descriptor is stored;
     * read by the consumer (peer) with acquire. Also a futex word: callers
     * parked for replies wait on the peer's control-ring tail. */
    RPAL_ALIGNED _Atomic uint32_t tail;
};

/* Consumer side of one ring, in the consumer's arena. */
struct rpal_ring_cons {
    /* Next position to take. CAS by the owner's consumer threads. */
    RPAL_ALIGNED _Atomic uint32_t reserve;
    /* Positions below tail are consumed and their slots free. Written by the
     * owner with release after the descriptor was copied out; read by the
     * producer (peer) with acquire to see free space. Futex word for
     * producers of the peer parked on a full ring. */
    RPAL_ALIGNED _Atomic uint32_t tail;
};

/* One end of a connection, in the owner's arena; the peer maps it read-only.
 * The descriptor arrays of the owner's two outbound rings follow it:
 * req[ring_entries] then ctl[ring_entries]. */
struct rpal_conn_shm {
    uint32_t magic;           /* RPAL_MAGIC; written once before the handshake */
    uint32_t ring_entries;    /* entries of each outbound ring; written once */
    uint64_t incarnation;     /* random, written once before the handshake and announced
                                 in it: a block reused for another connection has a new
                                 one, so a peer still looking at the old one notices */
    struct rpal_ring_prod req_out; /* requests and one-way messages we send */
    struct rpal_ring_prod ctl_out; /* replies and releases we send */
    struct rpal_ring_cons req_in;  /* how far we consumed the peer's req_out */
    struct rpal_ring_cons ctl_in;  /* how far we consumed the peer's ctl_out */
    /* Wake-up flags, written by the owner (seq_cst, paired with a seq_cst
     * fence in the peer after it publishes) and read by the peer (relaxed,
     * after that fence); see park protocol in docs/protocol.md. */
    RPAL_ALIGNED _Atomic uint32_t rx_parked;        /* owner's epoll waiters asleep (a count): send a wake-up byte */
    _Atomic uint32_t callers_parked;   /* owner's callers sleep on peer ctl_out.tail: futex-wake it */
    _Atomic uint32_t producers_parked; /* owner's producers sleep on peer req_in/ctl_in tail */
    _Atomic uint32_t closed;           /* owner released the connection (1) */
    _Atomic uint32_t backlogged;       /* owner holds control descriptors its ctl ring had no
                                          room for (1): after taking from that ring, send it a
                                          wake-up byte so it flushes them */
    _Atomic uint32_t room_wanted;      /* a sender of the owner found its req ring full and did
                                          not wait (RPAL_MSG_DONTWAIT) (1): after taking from
                                          that ring, send it a wake-up byte so it reports
                                          EPOLLRPALOUT. Written by the owner (seq_cst store,
                                          then a fence and a second look at the ring), cleared
                                          by the owner when it reports the room; read by the
                                          peer (relaxed, after its seq_cst fence in ring_pop) */
};

static inline size_t conn_shm_size(uint32_t entries)
{
    return sizeof(struct rpal_conn_shm) + 2 * (size_t)entries * sizeof(struct rpal_desc);
}

static inline struct rpal_desc *conn_shm_ring(const struct rpal_conn_shm *s, int ctl)
{
    return (struct rpal_desc *)((char *)s + sizeof(*s)) + (ctl ? s->ring_entries : 0);
}

/* Arena header, at offset 0 of every arena, written by the owner at init. */
struct rpal_arena_header {
    uint32_t magic;
    uint32_t protocol;
    int32_t pid;
    int32_t slot;
    uint64_t size;
};

/* Handshake message (SOCK_SEQPACKET), both directions, with SCM_RIGHTS
 * [arena fd (read-only)] for HELLO and WELCOME. */
enum { RPAL_HS_HELLO = 1, RPAL_HS_WELCOME = 2, RPAL_HS_REFUSE = 3 };
struct rpal_hs_msg {
    uint32_t magic;
    uint16_t protocol;
    uint16_t type;
    int32_t status;       /* REFUSE: the negative errno reason */
    int32_t slot;
    uint64_t window_base;
    uint64_t slot_size;
    uint32_t slot_count;
    uint32_t ring_entries;
    uint64_t arena_size;
    uint64_t conn_off;    /* offset of the sender's rpal_conn_shm in its arena */
    uint64_t key;         /* WELCOME: the service key */
    char name[RPAL_NAME_MAX + 1]; /* HELLO: the service asked for */
    char pad[7];
    uint64_t incarnation; /* of the sender's rpal_conn_shm */
};
_Static_assert(sizeof(struct rpal_hs_msg) == 144, "handshake layout");

/* --------------------------------------------------------------- allocator */

/* Every allocation starts with this header (in the owner's arena). */
/* BUF_CACHED: free, but kept whole in the allocator's cache of small blocks (arena.c) */
enum { BUF_FREE = 0, BUF_OWNED = 1, BUF_LENT = 2, BUF_INCALL = 3, BUF_CACHED = 4 };
struct rpal_buf {
    uint32_t magic;       /* RPAL_MAGIC ^ class: marks a block start */
    uint16_t cls;         /* size class: block is 64 << cls bytes */
    uint16_t state;       /* BUF_*; changed under the owner's locks only */
    uint32_t conn_serial; /* LENT: the connection holding it */
    uint32_t pad;
    uint64_t next, prev;  /* LENT: the connection's lent list; FREE: free list */
};
_Static_assert(sizeof(struct rpal_buf) == 32, "buffer header");

#define RPAL_NCLASSES 40

int arena_setup(void *base, uint64_t size);
struct rpal_buf *arena_alloc_block(size_t payload);
/* Bytes of the block arena_alloc_block(payload) would take (0: too large). */
uint64_t arena_block_bytes(size_t payload);
void arena_free_block(struct rpal_buf *b);
struct rpal_buf *arena_buf_of(const void *payload, uint16_t want_state);
static inline void *buf_payload(struct rpal_buf *b) { return b + 1; }
static inline size_t buf_capacity(const struct rpal_buf *b)
{
    return ((size_t)64 << b->cls) - sizeof(struct rpal_buf);
}

/* ------------------------------------------------------------ waiting */

/* The spin policy: a waiter spins only when spinning is likely to pay. A policy remembers how
 * long the last wait of its kind took (a set's wait for its next event; a connection's wait for
 * a reply while the peer's receiver was awake); a waiter spins for the budget when that was
 * within the budget, and parks at once otherwise. A wait that parked learns its length too, so
 * a burst after an idle spell spins again from its second call on. */
struct spin_policy {
    _Atomic int64_t expect_ns; /* the last wait's length */
    _Atomic uint32_t skipped;  /* waits that did not spin (spin_for_probing) */
};
int64_t spin_for(struct spin_policy *p);
/* As spin_for(), also not spinning when the wait is known to be long (the peer's receiver is
 * parked), except every 32nd such wait, which spins all the same: a wait that does not spin
 * learns nothing, and two peers that both park could keep each other slow (see wait_done). */
int64_t spin_for_probing(struct spin_policy *p, bool known_long);
void spin_learn(struct spin_policy *p, int64_t waited_ns);
/* A spinner that saw the clock jump this far between two looks lost its CPU to another
 * thread (more spinners than cores): it parks instead of spinning on. */
#define SPIN_PREEMPTED_NS 200000
/* A spin's look is quick but every SPIN_THOROUGH_LOOKS-th: a quick look reads only the entries
 * a message arrives in (one cache line per ring, which the producer writes last); a thorough one
 * also what changes rarely or only when something went wrong (the producer's tail, where a lie
 * shows; the peer's end; room for senders). A look less per message arrival costs about as
 * much as the arrival's own cache-line transfer on a fast placement. */
#define SPIN_THOROUGH_LOOKS 8

/* ------------------------------------------------------------- connections */

enum { CALL_FREE = 0, CALL_SYNC, CALL_ASYNC, CALL_FILLING, CALL_DONE, CALL_ABANDONED, CALL_QUEUED };

struct rpal_call_slot {
    _Atomic uint32_t state;   /* CALL_*; DONE published with release to the waiter */
    _Atomic uint32_t gen;     /* bumped at each use by the thread that took the slot; part
                                 of the call id; read by the drain to match replies */
    _Atomic uint32_t next;    /* link (index + 1): in the free stack (written before the
                                 push; a pop that read it stale fails its CAS) or in the
                                 completion queue (under call_lock) */
    int32_t res;
    uint64_t user_data;
    struct rpal_buf *req_buf; /* request payload to free when the call ends */
    struct rpal_msg reply;
};

struct rpal_conn {
    int fd;                 /* handshake socket, kept open: carries wake-up
                               bytes both ways; its end = peer gone */
    int pidfd;              /* the peer process; readable = peer died */
    uint32_t serial;        /* unique per process; tags lent buffers */
    pid_t peer_pid;
    uid_t peer_uid;
    gid_t peer_gid;
    int peer_slot;
    uint64_t key;
    char name[RPAL_NAME_MAX + 1];

    struct rpal_conn_shm *self;       /* ours, read-write */
    struct rpal_buf *self_buf;        /* the allocation holding self */
    uint64_t self_bytes;              /* its size, counted in g_rt.conn_bytes */
    const struct rpal_conn_shm *peer; /* theirs, read-only, untrusted */
    uintptr_t peer_base;
    uint64_t peer_size;
    uint32_t peer_entries;            /* validated copy of peer->ring_entries */
    uint64_t peer_incarnation;        /* announced in the handshake */
    dev_t peer_dev;                   /* the peer arena's memfd, to know whether */
    ino_t peer_ino;                   /* the slot's mapping is still this peer's */
    const struct rpal_desc *peer_req; /* peer's req_out descriptors */
    const struct rpal_desc *peer_ctl; /* peer's ctl_out descriptors */

    _Atomic int dead;                 /* 0, or the -errno every operation now returns */
    bool retired;                     /* peer pages dropped (conn_retire) */

    /* Calls we made. */
    pthread_mutex_t call_lock;        /* completion queue; slot_get's wait for a free slot */
    pthread_cond_t call_cond;         /* a slot became free */
    struct rpal_call_slot *calls;
    uint32_t ncalls;
    _Atomic uint64_t free_top;        /* free slots, a lock-free stack: (pops << 32) | (index +
                                         1), index 0 = empty; the pop count (bumped by each pop)
                                         makes a pop that raced a pop and push fail. Pop acquire,
                                         push seq_cst (then slot_waiters, slot_wanted are read) */
    uint32_t cq_head, cq_tail;        /* completion queue (index + 1) */
    _Atomic uint32_t slot_waiters;    /* threads in slot_get's wait (raised under call_lock,
                                         seq_cst, before their last look at free_top) */
    _Atomic bool slot_wanted;         /* a RPAL_MSG_DONTWAIT call found no free slot: the next
                                         slot_put() wakes the epoll set to report EPOLLRPALOUT
                                         (seq_cst, raised before a last look at free_top) */
    _Atomic bool want_room;           /* a RPAL_MSG_DONTWAIT send or call failed with -EAGAIN and
                                         EPOLLRPALOUT was not reported since: set by the sender,
                                         cleared by the epoll waiter that reports it */
    _Atomic uint32_t cq_count;
    struct spin_policy reply_spin;    /* callers waiting for replies (wait_done) */
    _Atomic uint32_t consumed_seen[2]; /* the peer's consumption of our req and ctl rings as
                                          last read (push): a lower bound, read again when a
                                          ring looks full */
    _Atomic uint32_t async_pending;   /* submitted calls whose completion was not taken yet:
                                         an epoll waiter that does not want EPOLLRPALIN parks
                                         on this connection only while it is non-zero */

    pthread_mutex_t drain_lock;       /* one thread drains the peer's ctl ring */

    pthread_mutex_t backlog_lock;     /* control descriptors waiting for ring room */
    struct rpal_desc *backlog;        /* circular, bl_cap entries */
    uint32_t bl_head, bl_count, bl_cap;
    _Atomic uint32_t bl_pending;      /* bl_count, readable without the lock */

    pthread_mutex_t lent_lock;        /* buffers lent to the peer */
    uint64_t lent_head;               /* arena offset of the first lent buffer, 0 = none */

    struct rpal_ep *ep;               /* the rpal epoll set holding us, or NULL */
    uint32_t ep_events;
    uint64_t ep_data;

    _Atomic uint64_t st_sent, st_received, st_rejected, st_spins, st_parks, st_wakeups,
        st_lent_bytes;

    struct rpal_conn *next_all;       /* runtime's list of connections */
};

/* ----------------------------------------------------------------- runtime */

struct rpal_peer_map {
    uint32_t refs;    /* connections using this slot's mapping */
    dev_t dev;
    ino_t ino;
    bool retired;     /* the pages were dropped (conn_retire): map again to use it */
};

struct rpal_runtime {
    pthread_mutex_t lock;        /* everything below that changes after init */
    bool started;
    pid_t pid;
    struct rpal_options opt;
    char dir[256];
    int dirfd;
    int slot;
    int slot_lock_fd;
    int arena_fd;                /* memfd, read-write, sealed */
    int arena_ro_fd;             /* the same memfd reopened read-only, sent to peers */
    char *window;
    char *arena;
    struct rpal_peer_map *peers; /* [slot_count] */
    struct rpal_conn *conns;
    struct rpal_service *services;
    uint32_t next_serial;
    _Atomic int64_t spin_ns;
    /* Bytes of the arena held by connection blocks, both ends (limits.c).
     * Changed by conn_new()/conn_destroy() with relaxed atomics: it is a
     * budget, it orders nothing. */
    _Atomic uint64_t conn_bytes;
};

extern struct rpal_runtime g_rt;

/* Backend: how arenas are mapped and peers woken. The user-space backend is
 * the only one today; a kernel backend (kernel/) plugs in here. */
struct rpal_backend {
    const char *name;
    int (*start)(struct rpal_runtime *rt);             /* window, slot, own arena */
    void (*stop)(struct rpal_runtime *rt);
    int (*map_peer)(struct rpal_runtime *rt, int slot, int fd, uint64_t size);
    void (*retire_peer)(struct rpal_runtime *rt, int slot, uint64_t size); /* peer died */
    void (*unmap_peer)(struct rpal_runtime *rt, int slot, uint64_t size);  /* last user gone */
    void (*wake_receiver)(struct rpal_conn *c);        /* a parked epoll waiter */
    void (*wake_word)(const _Atomic uint32_t *word);   /* futex wake, all */
    int (*wait_word)(const _Atomic uint32_t *word, uint32_t seen, int64_t ns);
    /* Parks an epoll waiter whose rx_parked flags are up until a wake-up (wake_receiver on
     * one of the set's connections, an event of its fds) or timeout_ms (-1: none). wait_fd is
     * the set's internal epoll fd; what woke the waiter is stored in ev (at most max: the
     * events of wait_fd, for the set to handle later). Returns how many, 0 at the timeout,
     * -EINTR or another -errno. */
    int (*park_set)(int wait_fd, struct epoll_event *ev, int max, int timeout_ms);
};
extern const struct rpal_backend rpal_backend_user;
extern const struct rpal_backend *g_backend;

/* registry.c */
/* A client accepted whose hello has not arrived yet. */
struct rpal_pending {
    int fd;
    int64_t deadline_ns;      /* CLOCK_MONOTONIC; refused -ETIMEDOUT after it */
    struct ucred cred;
};

/* How long a client has to send its hello. */
#define RPAL_HELLO_TIMEOUT_MS 500

struct rpal_service {
    int fd;        /* listening socket, non-blocking */
    int ep_fd;     /* rpal_service_fd(): epoll over fd, the pending clients and timer_fd */
    int timer_fd;  /* fires at the earliest pending deadline */
    int lock_fd;   /* services/NAME.lock, write-locked */
    dev_t sock_dev; /* the socket file fd is bound to (stat after bind): */
    ino_t sock_ino; /* rpal_service_check() compares the path with it */
    pthread_mutex_t accept_lock;
    struct rpal_pending pending[RPAL_PENDING_MAX];
    uint32_t npending;
    uint64_t key;
    uint32_t max_conns;       /* 0 = no limit */
    int spare_fd;             /* /dev/null, held so that a client can still be accepted
                                 and told -EMFILE once the process is out of fds */
    int64_t paused_until_ns;  /* accept4() failed for want of fds and no spare was left:
                                 the listening socket is out of ep_fd until then; 0 = not */
    struct rpal_access allow; /* owned copies of the lists */
    char name[RPAL_NAME_MAX + 1];
    struct rpal_service *next;
};
int registry_open(struct rpal_runtime *rt, const char *dir);
int registry_take_slot(struct rpal_runtime *rt);
void registry_close(struct rpal_runtime *rt);
int registry_socket_path(const char *name, char *out, size_t n);
int registry_check_name(const char *name);

/* handshake.c */
int handshake_client(const char *name, const struct rpal_access *trust, struct rpal_conn **out);
int handshake_admit(int fd, const struct rpal_service *svc, struct ucred *cred);
int handshake_server(int fd, const struct rpal_service *svc, const struct ucred *cred,
                     struct rpal_conn **out);
void handshake_refuse(int fd, int status);
/* Server: 0 when one more client fits in the fd reserve (limits.c), else
 * -EMFILE, logged. */
int handshake_fd_room(const struct rpal_service *svc, pid_t pid);
/* The parsers of what a peer sends in the handshake, internal (hidden, not in
 * librpal.map) but not static, so that fuzz/fuzz_handshake.c reaches them. */
struct msghdr;
int handshake_parse(const struct msghdr *mh, ssize_t n, struct rpal_hs_msg *m, int *arena);
int handshake_validate(const struct rpal_hs_msg *m);

/* limits.c */
/* Connection blocks of accepted connections take at most 1/N of the arena. */
#define RPAL_CONN_ARENA_SHARE 2
/* Most fds the engine keeps free for the rest of the process. */
#define RPAL_FD_RESERVE_MAX 64
/* Counts bytes of connection blocks; when capped, refuses (false) past the
 * arena's share. */
bool limits_take_conn_bytes(uint64_t bytes, bool capped);
void limits_give_conn_bytes(uint64_t bytes);
/* The reserve kept free for a process whose RLIMIT_NOFILE is limit. */
int limits_fd_reserve(int limit);
/* 0 when need more fds can be opened with the reserve left free, else
 * -EMFILE; *open_fds (-1 when not counted) and *limit say why. */
int limits_fd_room(int need, int *open_fds, int *limit);
/* Whether this process is out of fds now (dup of fd fails with EMFILE). */
bool limits_fds_exhausted(int fd);

/* conn.c */
/* A new connection with its block in our arena. accepted: the server end,
 * whose blocks are capped by RPAL_CONN_ARENA_SHARE. Returns 0 and *out,
 * -ENOSPC past the share, -ENOMEM. */
int conn_new(bool accepted, struct rpal_conn **out);
int conn_attach_peer(struct rpal_conn *c, const struct rpal_hs_msg *m, int arena_fd);
void conn_register(struct rpal_conn *c);
void conn_fail(struct rpal_conn *c, int err);
void conn_retire(struct rpal_conn *c);
bool conn_peer_gone(struct rpal_conn *c, bool syscall);
struct rpal_conn *conn_by_fd(int fd);
void conn_destroy(struct rpal_conn *c);
int conn_lend(struct rpal_conn *c, struct rpal_buf *b);
void conn_take_back(struct rpal_conn *c, uint64_t ptr);
void conn_unlend_free(struct rpal_conn *c, struct rpal_buf *b);
/* Takes back a buffer lent by a send that did not happen: it is the sender's (BUF_OWNED) again;
 * false when the connection's end freed it meanwhile. */
bool conn_unlend(struct rpal_conn *c, struct rpal_buf *b);
bool peer_range_ok(const struct rpal_conn *c, uint64_t ptr, uint64_t len);

/* Deadlines of the engine's waits (CLOCK_MONOTONIC ns): a wait that a peer can prolong ends
 * at the caller's deadline. DEADLINE_NONE waits until the peer acts or dies; DEADLINE_NOW
 * does not wait at all (RPAL_MSG_DONTWAIT: -EAGAIN, and EPOLLRPALOUT once there is room). */
#define DEADLINE_NONE INT64_MAX
#define DEADLINE_NOW 0
/* The error of a wait that reached deadline: -EAGAIN for DEADLINE_NOW, else -ETIMEDOUT. */
static inline int deadline_error(int64_t deadline) { return deadline == DEADLINE_NOW ? -EAGAIN : -ETIMEDOUT; }

/* ring.c */
/* Publishes d on our req ring if it has room now; -EAGAIN (nothing else done) if not, with
 * *full_at the peer's consumed position then (push_waiting waits for it to move). */
int ring_try_push(struct rpal_conn *c, const struct rpal_desc *d, uint32_t *full_at);
/* Publishes d on our ctl ring, or queues it (a backlog, see ring.c): never waits. */
int ring_push_ctl(struct rpal_conn *c, const struct rpal_desc *d);
/* Whether our req (ctl 0) or ctl ring has a free entry now. */
bool ring_has_room(const struct rpal_conn *c, int ctl);
/* After a RPAL_MSG_DONTWAIT send found the req ring full: raises room_wanted so that the peer
 * wakes us when it takes from that ring; true when room appeared meanwhile (send again). */
bool ring_want_room(struct rpal_conn *c);
int ring_pop(struct rpal_conn *c, int ctl, struct rpal_desc *d);
/* Whether the peer published into our req (ctl 0) or ctl ring what we did not take yet: its
 * next entry, or (a lie ring_pop reports) its tail ahead of us. */
bool ring_ready(const struct rpal_conn *c, int ctl);
/* ring_ready's first half, for a quick look: the next entry alone. */
bool ring_entry_ready(const struct rpal_conn *c, int ctl);
/* Fills the ring occupancy fields of s. */
void ring_depths(const struct rpal_conn *c, struct rpal_conn_stats *s);
void ring_flush_backlog(struct rpal_conn *c);

/* call.c */
int calls_init(struct rpal_conn *c, uint32_t n);
void calls_fail_all(struct rpal_conn *c, int err);
void calls_free(struct rpal_conn *c);
void drain_ctl(struct rpal_conn *c);
/* For rpal_epoll_wait: true (once) when a RPAL_MSG_DONTWAIT sender got -EAGAIN and there is
 * room again to send and to start a call; the want is then cleared. */
bool calls_room_ready(struct rpal_conn *c);
/* Drains the peer's ctl ring when something is there (thorough: ring_ready, else
 * ring_entry_ready) and no other thread drains it now; true when it drained. */
bool try_drain_ctl(struct rpal_conn *c, bool thorough);

/* wait.c: the one way to wait */
/* What a waiter does as it looks (thorough or quick: SPIN_THOROUGH_LOOKS): takes the peer's
 * replies and releases, flushes our backlog. */
void progress(struct rpal_conn *c, bool thorough);

/* A wait: a caller's for its reply, a producer's for ring room (struct conn_wait, wait.c), or
 * rpal_epoll_wait's for events of a set (epoll.c). wait_for() runs it: it spins while the
 * spin policy says spinning pays, looking (done) and reading the clock every clock_looks
 * looks (tick, the deadline, the end of the spin), then parks until done or the deadline. */
struct wait;
/* done()'s look when the waiter is about to park: handle first whatever the peer published
 * up to now (drain its replies, take what woke the last park). */
#define WAIT_SETTLE UINT32_MAX
struct wait_ops {
    /* Whether the wait is over. look: its number within a spin (quick looks, a thorough one
     * every SPIN_THOROUGH_LOOKS), or WAIT_SETTLE. */
    bool (*done)(struct wait *w, uint32_t look);
    /* What the wait does on a schedule during a spin, with the clock (a connection looks
     * for a dead peer; a set at its ordinary fds): true when that made it done. */
    bool (*tick)(struct wait *w, int64_t now);
    /* Parks for at most ns: raises the flag that tells the peer to wake us, looks once more
     * (done), blocks in the backend (counted in w->parks), lowers the flag, and reads the
     * clock into w->clock (the park's length counts). 1 when the look found it done, 0 when woken or at the end of ns
     * (the waiter looks again), or -errno to end the wait with. */
    int (*park)(struct wait *w, int64_t ns);
};
struct wait {
    const struct wait_ops *ops;
    pthread_mutex_t *spin_lock; /* held across the looks of a spin (NULL: none) */
    uint32_t clock_looks;       /* looks between two clock reads of a spin */
    int64_t clock;              /* in: the clock at the start; out: the last read */
    uint32_t parks;             /* out: times it parked */
};
/* Spins until spin_end (ends early when preemptible and the thread lost its CPU), then parks
 * until deadline. 0 when done; -EAGAIN or -ETIMEDOUT at the deadline (deadline_error), or what
 * park returned. */
int wait_for(struct wait *w, int64_t spin_end, int64_t deadline, bool preemptible);

/* A wait on a connection: done() says whether it is over (settle: handle first whatever the
 * peer published up to now, e.g. drain its replies); the waiter parks on word, a position in
 * the peer's memory that moves when done() may change, with parked, a flag of ours that
 * tells the peer to wake it. */
struct conn_wait {
    struct wait w;
    struct rpal_conn *c;
    const _Atomic uint32_t *word;
    _Atomic uint32_t *parked;
    bool (*done)(const struct conn_wait *cw, bool settle);
    const void *arg;    /* for done() */
    uint32_t full_at;   /* for done() */
    uint32_t seen;      /* word as the last settle read it */
    int64_t next_check; /* the next look for a dead peer during a spin */
};
/* A conn_wait, started now (clock: now_ns()). */
void conn_wait_init(struct conn_wait *cw, struct rpal_conn *c, const _Atomic uint32_t *word,
                    _Atomic uint32_t *parked, bool (*done)(const struct conn_wait *, bool),
                    int64_t clock);
/* Publishes d on our req ring, waiting for room until deadline (DEADLINE_NOW: -EAGAIN at once,
 * and EPOLLRPALOUT armed). */
int push_waiting(struct rpal_conn *c, const struct rpal_desc *d, int64_t deadline);

/* epoll.c */
void ep_forget_conn(struct rpal_conn *c);
void ep_wake_conn(struct rpal_conn *c);

/* rpal.c: waiting helpers */
int64_t now_ns(void);
int64_t spin_budget_ns(void);


/* A caller's limit on the waits of one operation, given as a timeout and turned into a
 * deadline only when a wait needs one: a call that finds a free slot and room in the ring
 * reads no clock before its request is published (a clock read costs about as much as the
 * cache-line transfer that carries the request). */
struct limit {
    int64_t timeout_ns;
    int64_t deadline; /* LIMIT_UNRESOLVED until limit_deadline() */
};
#define LIMIT_UNRESOLVED INT64_MIN
/* A limit that is already a deadline (DEADLINE_NONE, DEADLINE_NOW). */
static inline struct limit limit_at(int64_t deadline)
{
    return (struct limit){.deadline = deadline};
}
/* timeout_ms from the first wait (< 0: none). */
static inline struct limit limit_ms(int timeout_ms)
{
    if (timeout_ms < 0)
        return limit_at(DEADLINE_NONE);
    return (struct limit){.timeout_ns = (int64_t)timeout_ms * 1000000, .deadline = LIMIT_UNRESOLVED};
}
static inline int64_t limit_deadline(struct limit *l)
{
    if (l->deadline == LIMIT_UNRESOLVED)
        l->deadline = now_ns() + l->timeout_ns;
    return l->deadline;
}

/* log.c */
/* Logs a message with its level (LOG_*) and code (rpal.h: what it is about). */
void rpal_log(int level, enum rpal_log_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define LOG_ERR 0
#define LOG_WARN 1
#define LOG_INFO 2

#endif
