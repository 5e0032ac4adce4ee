/* SPDX-License-Identifier: MIT */
/*
 * rpal.h - the one public header of librpal, the RPAL engine.
 *
 * RPAL ("Run Process As Library") lets a process call another process on the
 * same host like a library: each process owns an arena mapped at the same
 * fixed address in every connected peer (read-write for the owner, read-only
 * for peers), so a pointer into the sender's arena is valid in the receiver
 * (one copy), and messages travel through lock-free rings in those arenas, so
 * the hot path makes no system call while the peer is awake.
 *
 * Conventions (as liburing):
 *  - every function that can fail returns 0 (or a non-negative value where
 *    stated) on success and a negative errno value on failure; errno itself
 *    is not used;
 *  - struct arguments are caller-owned; out-pointers are written only on
 *    success;
 *  - the library is process-global: rpal_init() once, rpal_exit() once.
 *    A process must not fork() and keep using RPAL in the child; a child that
 *    wants RPAL execs (or calls rpal_init() in a fresh process).
 *
 * docs/api.md beside this header describes the contract in prose, and
 * docs/protocol.md the memory layout, ring and descriptor formats and the
 * handshake.
 */
#ifndef RPAL_H
#define RPAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RPAL_VERSION_MAJOR 1
#define RPAL_VERSION_MINOR 2

/* Clients a service keeps in the middle of their handshake (see rpal_accept). */
#define RPAL_PENDING_MAX 256

/* Number of 64-bit words a message carries inline (32 bytes). */
#define RPAL_INLINE_WORDS 4
/* Longest service name in bytes, without the terminating NUL. Names use
 * [A-Za-z0-9._-] and do not start with '.'. */
#define RPAL_NAME_MAX 64

/* Event bits rpal_epoll_wait() reports for an RPAL connection. */
#define EPOLLRPALIN    (1u << 20) /* requests or one-way messages to rpal_recv() */
#define EPOLLRPALREPLY (1u << 21) /* completions of submitted calls to rpal_call_complete() */
#define EPOLLRPALHUP   (1u << 22) /* the peer died or closed the connection */
#define EPOLLRPALOUT   (1u << 23) /* room again after a RPAL_MSG_DONTWAIT send or call got
                                     -EAGAIN (reported once per -EAGAIN, not level-triggered) */

/* rpal_msg.flags on send (rpal_send, rpal_call_submit, rpal_call_submit_spin): do not wait
 * for ring room or a free call slot; fail with -EAGAIN instead, the message (and its data)
 * still the caller's, and report EPOLLRPALOUT on the connection once there is room. */
#define RPAL_MSG_DONTWAIT (1u << 0)

/*
 * Process-wide options for rpal_init(). Initialise with rpal_options_init(),
 * which fills the defaults and applies the environment, then change fields.
 * All processes that want to talk must agree on window_base, slot_size and
 * slot_count (the handshake checks it).
 */
struct rpal_options {
    uint32_t size;          /* sizeof(struct rpal_options), for ABI growth */
    uint32_t ring_entries;  /* descriptors per ring, power of two, 16..65536;
                               default 256, env RPAL_RING_ENTRIES */
    uint64_t arena_size;    /* this process's arena, multiple of 4096, at least
                               1 MiB, at most slot_size; default 128 MiB,
                               env RPAL_ARENA_SIZE. Resident only where
                               written. Accepted connections' blocks (64 KiB
                               each with 256 ring entries) take at most half
                               of it: 1,024 with the defaults. */
    uint64_t slot_size;     /* bytes between two slots, power of two >= 2 MiB;
                               default 1 GiB, env RPAL_SLOT_SIZE */
    uint64_t window_base;   /* address of slot 0, slot_size aligned; default
                               0x400000000000 (0x1000000000 in ThreadSanitizer
                               builds), env RPAL_WINDOW_BASE */
    uint32_t slot_count;    /* slots in the window, 2..65536; default 256,
                               env RPAL_SLOT_COUNT */
    uint32_t max_calls;     /* calls in flight per connection, 1..65535;
                               default 1024, env RPAL_MAX_CALLS */
    int64_t spin_ns;        /* how long a waiter spins before it parks;
                               0 = always park; default 50000 (50 us),
                               env RPAL_SPIN_NS */
    const char *runtime_dir;/* registry directory; NULL = env RPAL_RUNTIME_DIR,
                               else $XDG_RUNTIME_DIR/rpal, else /tmp/rpal-UID.
                               Created mode 0700; must be owned by this uid
                               and not accessible to others, unless
                               runtime_group says otherwise. */
    int64_t runtime_group;  /* -1 (default): the runtime directory is private
                               to this uid. A gid: the directory is shared by
                               that group so that processes of several users
                               can find each other: mode 2770 (3770
                               recommended), group runtime_group, owned by this
                               uid or root, and this process a member of the
                               group. Env RPAL_RUNTIME_GROUP (a gid or a group
                               name). Sharing the registry only lets peers find
                               each other: each service still admits only its
                               own uid unless it allows more (rpal_access). */
};

/*
 * Users admitted as the other end of a connection, beyond this process's own
 * effective uid (always admitted). A peer is admitted when its uid is in uids,
 * or its effective gid or one of its supplementary groups is in gids. The
 * kernel tells the peer's credentials (SO_PEERCRED, SO_PEERGROUPS); the peer
 * cannot choose them. Empty lists admit only the own uid.
 */
struct rpal_access {
    const uint32_t *uids;
    uint32_t uid_count;
    uint32_t gid_count;
    const uint32_t *gids;
};

/* Per-service settings for rpal_register_service_params(). Zero-initialise,
 * set size = sizeof(struct rpal_service_params), then change fields. */
struct rpal_service_params {
    uint32_t size;
    uint32_t max_conns;     /* live connections this service accepts at once;
                               0 = no limit. A client past it is refused with
                               -EUSERS. The process's own limits hold
                               whatever it says (see rpal_accept): -ENOSPC,
                               -EMFILE. */
    struct rpal_access allow; /* clients of other users it admits (copied) */
};

/* Per-request settings for rpal_request_service_params(). Zero-initialise and
 * set size = sizeof(struct rpal_request_params). */
struct rpal_request_params {
    uint32_t size;
    uint32_t reserved;      /* 0 */
    struct rpal_access trust; /* servers of other users this client accepts */
};

/*
 * A message: up to RPAL_INLINE_WORDS inline words and, optionally, a payload
 * in the sender's arena. On send, data is NULL or a buffer returned by
 * rpal_alloc() (len <= its size), and ownership of that buffer passes to the
 * library. On receive, data points into the sender's arena (read-only,
 * already bounds-checked) and stays valid until the receiver releases it:
 * for a call, until rpal_reply(); for a one-way message or a reply, until
 * rpal_release().
 */
struct rpal_msg {
    uint64_t words[RPAL_INLINE_WORDS];
    const void *data;
    uint64_t len;
    uint64_t id;     /* set by rpal_recv(): the call id for rpal_reply(), or
                        0 for a one-way message; ignored on send */
    int32_t status;  /* application status, carried as is (replies) */
    uint32_t flags;  /* on send: 0 or RPAL_MSG_DONTWAIT where stated (other bits: -EINVAL);
                        0 on receive */
};

/* Completion of a call made with rpal_call_submit(). */
struct rpal_completion {
    uint64_t user_data;     /* as given to rpal_call_submit() */
    int32_t res;            /* 0, or -ECONNRESET (peer died or released the
                               connection), -EPROTO (malformed reply) */
    uint32_t reserved;
    struct rpal_msg reply;  /* valid when res == 0 */
};

/* What is known about the other end of a connection. pid, uid and gid come
 * from the kernel (SO_PEERCRED), not from the peer. */
struct rpal_peer_info {
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
    int32_t slot;
    uint64_t key;           /* the service key of the server end */
    uint64_t arena_base;    /* peer arena, mapped read-only at this address */
    uint64_t arena_size;
    char name[RPAL_NAME_MAX + 1]; /* service name */
};

/* Counters of one connection, for tests, tools and metrics. */
struct rpal_conn_stats {
    uint64_t sent;          /* descriptors this side published */
    uint64_t received;      /* descriptors this side consumed */
    uint64_t rejected;      /* descriptors from the peer rejected as malformed */
    uint64_t spins;         /* waits that ended while spinning */
    uint64_t parks;         /* waits that parked in the kernel */
    uint64_t wakeups;       /* wake-ups this side sent to a parked peer */
    uint64_t lent_bytes;    /* bytes of this side's arena the peer holds now */
    /* Ring occupancy now (each read on its own, not a snapshot as a whole).
     * "out" rings are the two this side publishes to, "in" the peer's two. */
    uint32_t ring_entries;    /* entries of each out ring */
    uint32_t req_out_queued;  /* requests, one-way messages published, not yet taken by the peer */
    uint32_t ctl_out_queued;  /* replies, releases published, not yet taken by the peer */
    uint32_t ctl_out_backlog; /* replies, releases waiting for room in the ctl out ring */
    uint32_t req_in_queued;   /* the peer's requests, one-way messages not yet taken here */
    uint32_t ctl_in_queued;   /* the peer's replies, releases not yet taken here */
};

struct rpal_service; /* a registered service (server side) */
struct rpal_conn;    /* a connection between two processes */

/* Log sink for reasons a peer or a request was refused. level is
 * 0 error, 1 warning, 2 info. The default sink writes warnings and errors to
 * stderr when RPAL_LOG is set. fn may be called from any RPAL thread, with
 * the engine's locks held: it must not call into librpal, and should return
 * quickly (queue the message if it must do more). rpal_set_log_sink() is the
 * same with each message's code (since 1.2). */
typedef void (*rpal_log_fn)(int level, const char *message, void *context);

/* Levels of log records. */
#define RPAL_LEVEL_ERROR   0
#define RPAL_LEVEL_WARNING 1
#define RPAL_LEVEL_INFO    2

/* What a log message is about, for programs (the text is for people): every
 * message the engine logs carries one of these. A value keeps its meaning for
 * good; later versions may add values, which a sink treats as RPAL_LOG_OTHER.
 * docs/api.md lists which messages carry which code. */
enum rpal_log_code {
    RPAL_LOG_OTHER = 0,             /* none of the below */
    RPAL_LOG_RUNTIME_DIR = 1,       /* the runtime directory cannot be made, opened or used
                                       (owner, mode, group): rpal_init fails */
    RPAL_LOG_WINDOW = 2,            /* the slot window cannot be reserved: rpal_init fails */
    RPAL_LOG_REGISTRY = 3,          /* an entry of this process in the runtime directory (slot
                                       file, service lock or socket) cannot be made, written or
                                       taken back */
    RPAL_LOG_REGISTRY_REPAIRED = 4, /* an entry of this process that someone removed was made
                                       again (rpal_service_check) */
    RPAL_LOG_LIMIT = 5,             /* a limit of this process was reached: every slot taken,
                                       out of fds (accepting paused, an fd not received), a peer
                                       that takes none of our replies filled their queue */
    RPAL_LOG_PEER_REFUSED = 6,      /* this process refused a peer: a client of credentials the
                                       service does not admit, a server this client does not
                                       trust, a limit (max_conns, the arena's share, the fd
                                       reserve, RPAL_PENDING_MAX), no hello in time */
    RPAL_LOG_REFUSED_BY_PEER = 7,   /* the server refused this process; the text has its reason */
    RPAL_LOG_HANDSHAKE_ABORTED = 8, /* a handshake ended early without a verdict: the peer hung
                                       up or sent nothing in time */
    RPAL_LOG_HANDSHAKE_INVALID = 9, /* the peer broke the handshake: a malformed or lying hello or
                                       welcome (protocol, fds, window, a slot it does not hold),
                                       an unsealed or missized arena */
    RPAL_LOG_PROTOCOL_VIOLATION = 10, /* a connected peer broke the protocol in shared memory: a
                                       malformed descriptor, a release of a buffer it does not
                                       hold, ring positions it cannot have */
    RPAL_LOG_CONN_ENDED = 11,       /* a connection failed or was closed; the text has the error */
    RPAL_LOG_SLOT_REUSED = 12,      /* a peer's slot now belongs to another process (info) */
    RPAL_LOG_WAKE_FAILED = 13,      /* a wake-up could not be sent to a parked waiter */
};

/* One log message, as rpal_set_log_sink() passes it. Fields are only ever
 * added at the end: a sink reads a field only if its end is within size. */
struct rpal_log_record {
    uint32_t size;          /* sizeof(struct rpal_log_record) of the library */
    int32_t level;          /* RPAL_LEVEL_ERROR, _WARNING or _INFO */
    int32_t code;           /* enum rpal_log_code */
    uint32_t reserved;      /* 0 */
    const char *message;    /* NUL-terminated UTF-8, valid during the call only */
};

/* Log sink with codes (see rpal_log_fn for where and when it runs). */
typedef void (*rpal_log_sink_fn)(const struct rpal_log_record *record, void *context);

/* rpal_service_entry.flags: a live process serves the entry (it holds the
 * entry's lock and the entry names it). */
#define RPAL_SERVICE_LIVE (1u << 0)

/* One service entry of a runtime directory, as rpal_list_services() reports
 * it. Everything but flags and connections is what the entry's file records:
 * anyone who may write the directory may have written it. Fields are only ever
 * added at the end (see rpal_list_services for the entry size). */
struct rpal_service_entry {
    uint32_t size;          /* bytes of this entry the library filled */
    uint32_t flags;         /* RPAL_SERVICE_LIVE */
    int32_t pid;            /* the server's pid: the live one's, or the last (dead or
                               unregistered) one's; 0 when the entry records none */
    int32_t slot;           /* the server's slot, -1 when the entry records none */
    uint64_t key;           /* the service key (rpal_peer_info.key), 0 when none */
    uint32_t connections;   /* live entries: sockets connected to the service now, clients
                               in their handshake included; 0 otherwise */
    uint32_t reserved;      /* 0 */
    char name[RPAL_NAME_MAX + 1]; /* the service name */
};

/* ---------------------------------------------------------------- lifecycle */

/* Fills o with defaults, then applies the environment variables named above.
 * Returns 0, or -EINVAL when an environment variable is malformed (o then
 * holds the defaults for that field). */
int rpal_options_init(struct rpal_options *o);

/* Starts RPAL in this process: checks the runtime directory, reserves the
 * slot window PROT_NONE, takes a free slot and maps a new sealed arena at its
 * address. o may be NULL (defaults and environment).
 * Returns 0; -EALREADY if already started; -EINVAL for bad options;
 * -EADDRINUSE if the window overlaps an existing mapping; -EUSERS if no slot
 * is free; -EPERM if the runtime directory is not private to this uid. */
int rpal_init(const struct rpal_options *o);

/* Stops RPAL: releases every connection and service (in-flight calls fail
 * with -ECONNRESET), unmaps all arenas and frees the slot. The caller makes
 * sure no other thread is inside an RPAL call. Returns 0 or -ENOTCONN if not
 * started. */
int rpal_exit(void);

/* This process's slot id (>= 0) or -ENOTCONN. */
int rpal_slot_id(void);

/* Sets the spin budget of later waits, in nanoseconds (0: always park).
 * Returns 0 or -EINVAL for a negative value. */
int rpal_set_spin_ns(int64_t ns);

/* Installs the log sink (NULL restores the default). Replaces a sink that
 * rpal_set_log_sink() installed, as that one replaces this one. */
void rpal_set_logger(rpal_log_fn fn, void *context);

/* Installs a log sink that receives each message with its level and code
 * (struct rpal_log_record); NULL restores the default. Replaces a sink that
 * rpal_set_logger() installed: one sink at a time, the last one installed.
 * Needs nothing started; context is passed to fn as is. Since 1.2. */
void rpal_set_log_sink(rpal_log_sink_fn fn, void *context);

/* Writes the path of the runtime directory, NUL-terminated, to buf: this
 * process's once rpal_init() succeeded, else the one rpal_init(NULL) would
 * use (RPAL_RUNTIME_DIR, RPAL_RUNTIME_GROUP, XDG_RUNTIME_DIR, /tmp/rpal-UID or
 * /tmp/rpal-gGID). Opens and creates nothing. Returns the path's length;
 * -ERANGE when buf cannot hold it and its NUL; -EINVAL for buf == NULL or a
 * malformed RPAL_* variable (as rpal_options_init); -ENAMETOOLONG. Since 1.2. */
int rpal_runtime_dir(char *buf, size_t size);

/* Lists the service entries of a runtime directory, live or not, sorted by
 * name (bytewise), as tools show them: runtime_dir, or rpal_runtime_dir()'s
 * when NULL. Fills entries[0 .. min(count, max_entries)), each entry_size
 * bytes apart; entry_size must be at least the 1.2 sizeof(struct
 * rpal_service_entry) (104), and the library fills what it knows of each
 * entry and zeroes the rest (entry->size tells how much it filled). Needs
 * nothing started and changes nothing: it reads the directory, probes each
 * entry's lock, and counts connected sockets in /proc/net/unix. What it reads
 * is checked, not trusted: files with names that are no service name are
 * skipped. Returns count, the number of entries (which may exceed
 * max_entries: call again with room for them); -ENOENT when the directory
 * holds no registry; -EACCES, -ENOTDIR (a symlink), -EINVAL (entries NULL
 * with max_entries > 0, entry_size too small, or as rpal_runtime_dir), -E2BIG
 * for more than 1,048,576 entries, -ENOMEM, other -errno. Since 1.2. */
int rpal_list_services(const char *runtime_dir, struct rpal_service_entry *entries,
                       size_t entry_size, size_t max_entries);

/* ------------------------------------------------------------------ services */

/* Registers a service under name in the runtime directory and starts
 * listening for connections. *key receives the service's random 64-bit key
 * (may be NULL). Returns 0; -EINVAL for a bad name; -ENAMETOOLONG;
 * -EADDRINUSE when a live process already serves that name (an entry left
 * by a dead process is removed and taken over). */
int rpal_register_service(const char *name, struct rpal_service **svc, uint64_t *key);

/* rpal_register_service() with settings: who may connect besides this uid,
 * and how many at once. p may be NULL (the defaults: own uid, no limit).
 * Also -EINVAL for a params size that is too small or reserved fields set,
 * -ENOMEM. */
int rpal_register_service_params(const char *name, const struct rpal_service_params *p,
                                 struct rpal_service **svc, uint64_t *key);

/* Closes the listening socket and removes the registry entry. Connections
 * already accepted stay up. Returns 0 or -EINVAL. */
int rpal_unregister_service(struct rpal_service *svc);

/* Checks that svc is still registered where clients look for it, and
 * registers it again when not. The runtime directory, this process's slot
 * file or the service's entry (its lock file and socket) may have been
 * removed or replaced by someone else (rm -rf of the directory, say); then
 * the directory is created again (mode and ownership checked as by
 * rpal_init()), this process takes its own slot file again, and svc takes
 * its name again with a new listening socket (clients in the old socket's
 * backlog are dropped), as long as no other live process took the name (or
 * the slot) meanwhile. Connections already accepted are not affected. Call it
 * periodically (a server does, once a second): clients of a vanished entry
 * get -ENOENT until then. Thread-safe, also with rpal_accept() on svc.
 * Returns 0 when the registration is intact; 1 when it was restored;
 * -EADDRINUSE when another live process now serves the name, or holds this
 * process's slot (svc then stays unregistered: a later call takes the name
 * back once that process is gone); -EPERM when the runtime directory is
 * not private (as rpal_init()); -EINVAL; other -errno from creating the
 * directory, files or socket. rpal_request_service() restores the directory
 * and this process's slot file the same way before it connects. */
int rpal_service_check(struct rpal_service *svc);

/* The fd to wait on for svc (an epoll fd over the listening socket and the
 * clients in the middle of their handshake): put it in an (rpal_)epoll set;
 * EPOLLIN means rpal_accept() has work. Do not read or close it. Returns the
 * fd or -EINVAL. */
int rpal_service_fd(const struct rpal_service *svc);

/* Accepts one client and completes the handshake: checks the peer's
 * credentials (same uid, or admitted by the service's rpal_access), the
 * service's connection limit, the process's limits, protocol version,
 * window and seals, then maps the peer's arena read-only at its slot
 * address. Never waits for a client: one whose hello has not arrived is
 * kept (up to RPAL_PENDING_MAX) and finished by a later call, when
 * rpal_service_fd() reports it. Returns 0 and *conn; -EAGAIN when nothing
 * is ready; -EACCES for a peer of another uid the service does not admit;
 * -EUSERS when the service has max_conns live connections; -ENOSPC when
 * the blocks of this process's accepted connections hold half of its arena
 * (the rest is kept for messages); -EMFILE when taking the client would
 * leave fewer fds free than the reserve (an eighth of RLIMIT_NOFILE, at
 * most 64), or the process is out of fds (-ENFILE: the system is), the
 * client then taken with a spare fd kept for this, or, without one, the
 * service not listening for 100 ms; -ENOMEM when the arena has no block
 * for the connection; -EPROTO for a malformed hello (wrong version,
 * layout, fds, or a slot the peer does not hold) or -EBADFD for an
 * unsealed or wrongly sized arena; -ETIMEDOUT when the client sent no
 * hello within 500 ms; -ECONNREFUSED when it hung up first; -EBUSY when
 * RPAL_PENDING_MAX clients are already in the middle of their handshake.
 * In each of these cases the offending client is told why (when it can
 * be), dropped and the reason logged; call again for the next one. Calls
 * on one service are serialised. */
int rpal_accept(struct rpal_service *svc, struct rpal_conn **conn);

/* Connects to the service registered under name (the seed's "request
 * service"). Returns 0 and *conn; -ENOENT when nobody serves that name;
 * -EACCES when the server runs as another uid; the server's reason when it
 * refused us (-EACCES: our uid is not admitted, -EUSERS: the service is at
 * its connection limit, -ENOSPC: the server's arena holds all the
 * connections it takes, -EMFILE/-ENFILE: the server keeps its reserve of
 * fds, -EPROTO, -EBADFD...); -ECONNREFUSED or -ECONNRESET when it hung up
 * without an answer; -EPROTO or -EBADFD for a malformed answer; -ETIMEDOUT
 * when the server did not answer within 2 s; -ENOMEM when our arena has no
 * room for the connection; -EMFILE when this process is out of fds (also
 * when the server's arena fd cannot be received). */
int rpal_request_service(const char *name, struct rpal_conn **conn);

/* rpal_request_service() that also accepts a server running as one of the
 * users p->trust admits. p may be NULL. Also -EINVAL for a params size that
 * is too small or reserved fields set. */
int rpal_request_service_params(const char *name, const struct rpal_request_params *p,
                                struct rpal_conn **conn);

/* Disconnects and frees conn (the seed's "release service"): calls still in
 * flight on this side fail with -ECONNRESET, buffers lent to the peer are
 * freed, the peer's arena is unmapped once no other connection uses it (its
 * addresses become PROT_NONE), and the peer sees EPOLLRPALHUP. No other
 * thread may use conn, or wait on an rpal_epoll set holding it, any more;
 * pointers into the peer's arena become invalid. Returns 0 or -EINVAL. */
int rpal_release_service(struct rpal_conn *conn);

/* Disconnects conn without freeing it: the peer sees EPOLLRPALHUP and its
 * calls fail as if this side had released the connection; calls in flight
 * on this side fail with -ECONNRESET, buffers lent to the peer are freed, and
 * later operations on conn return -ECONNRESET. Unlike
 * rpal_release_service(), other threads may still be inside conn (or wait
 * on an rpal_epoll set holding it) while and after this runs: conn stays
 * valid, and a payload of the peer still being read stays readable (zeros
 * once the peer's pages are retired). For a server that gives up on a
 * handler that never returns. Release conn later with
 * rpal_release_service() as usual. Idempotent. Returns 0 or -EINVAL. */
int rpal_conn_shutdown(struct rpal_conn *conn);

/* The connection's fd, to pass to rpal_epoll_ctl(). Returns fd or -EINVAL. */
int rpal_conn_fd(const struct rpal_conn *conn);

/* Fills *info. Returns 0 or -EINVAL. */
int rpal_conn_info(const struct rpal_conn *conn, struct rpal_peer_info *info);

/* Fills *stats. Returns 0 or -EINVAL. */
int rpal_conn_stats(const struct rpal_conn *conn, struct rpal_conn_stats *stats);

/* -------------------------------------------------------------------- memory */

/* Allocates size bytes (> 0) in this process's arena, 16-byte aligned.
 * Peers can read the buffer once it is sent; only this process writes it.
 * Returns 0 and *ptr, -EINVAL, or -ENOMEM when the arena is full (after
 * reclaiming buffers the peers have released). Thread-safe. */
int rpal_alloc(size_t size, void **ptr);

/* Frees a buffer from rpal_alloc() that was not sent. Returns 0, or -EINVAL
 * for a pointer that is not a live, unsent allocation. */
int rpal_free(void *ptr);

/* Usable size of a live allocation, or -EINVAL. */
int64_t rpal_alloc_size(const void *ptr);

/* ------------------------------------------------------------------ messages */

/* Sends a one-way message. msg->data, if any, is lent to the peer until it
 * calls rpal_release() (or the connection ends) and is then freed. Waits
 * while the ring is full, unless msg->flags has RPAL_MSG_DONTWAIT: then
 * -EAGAIN (nothing sent, data still the caller's) and EPOLLRPALOUT once
 * there is room. Returns 0; -EAGAIN; -EINVAL for a data pointer that is not
 * an unsent allocation of this process or a len past it, or unknown flags;
 * -ECONNRESET when the peer is gone (data is freed). Thread-safe. */
int rpal_send(struct rpal_conn *conn, const struct rpal_msg *msg);

/* The seed's shape: sends n (0..RPAL_INLINE_WORDS) inline words one way. */
int rpal_write_ptrs(struct rpal_conn *conn, const int64_t *ptrs, int n);

/* Takes the next request or one-way message from the peer without waiting.
 * Every descriptor is copied once and checked: a malformed call is answered
 * with -EPROTO status to the caller and skipped, a malformed one-way message
 * is dropped; both are counted in stats.rejected and logged.
 * Returns 0 and *msg; -EAGAIN when there is none; -ECONNRESET when the peer
 * released the connection, or died and that was noticed (by rpal_epoll_wait
 * or a waiting call: rpal_recv itself makes no system call); -EPROTO when
 * the peer corrupted the ring itself (the connection is then dead).
 * Thread-safe (several receivers may share a connection). */
int rpal_recv(struct rpal_conn *conn, struct rpal_msg *msg);

/* Answers call id (from rpal_recv) with reply; the request's data becomes
 * invalid. reply->data, if any, is lent to the caller until it releases it.
 * Answer each call once: the caller discards an answer to an id it is not
 * waiting for (a second answer, or one after its timeout). Never waits: when
 * the ring is full the reply queues privately until the caller makes room.
 * Returns 0; -EINVAL for id 0 or a bad data pointer; -ECONNRESET when the
 * peer is gone (reply->data is freed); -ENOBUFS when the caller has taken
 * none of thousands of queued replies (the connection then fails); -EPROTO
 * when the peer corrupted the ring. Thread-safe. */
int rpal_reply(struct rpal_conn *conn, uint64_t id, const struct rpal_msg *reply);

/* Gives a received one-way message's or reply's data back to its owner.
 * Safe for messages without data (does nothing). Never waits (see
 * rpal_reply). Returns 0, -EINVAL for a message whose data is not in the
 * peer's arena, -ECONNRESET, -ENOBUFS. */
int rpal_release(struct rpal_conn *conn, const struct rpal_msg *msg);

/* Calls the peer and waits for its reply: spins for the spin budget, then
 * parks. req->data is freed when the call ends: at the reply, or at the
 * connection's end; after -ETIMEDOUT it stays until the late reply (which
 * is discarded) since the peer may still read it. timeout_ms < 0 waits
 * forever; otherwise it bounds the whole call, including the waits for a
 * free call slot (max_calls in flight) and for ring room before the request
 * is sent (-ETIMEDOUT then too, req->data freed). req->flags must be 0.
 * Returns 0 and *reply (release its data with rpal_release());
 * -ETIMEDOUT; -ECONNRESET when the peer dies (noticed within 100 ms) or
 * releases the connection; -EPROTO for a malformed reply; the negative
 * errno the peer's library failed the call with (-EPROTO for a malformed
 * request); -ENOBUFS; -EINVAL for a bad request buffer (then not taken).
 * Many threads may call on one connection; each gets its own reply. */
int rpal_call(struct rpal_conn *conn, const struct rpal_msg *req, struct rpal_msg *reply,
              int timeout_ms);

/* Submits a call without waiting; its completion, tagged with user_data, is
 * taken later with rpal_call_complete(). *id (may be NULL) receives the call
 * id, the msg.id the peer sees (so that a later message, a cancellation
 * say, can name the call). Waits while the connection has max_calls calls
 * in flight or the ring is full, unless req->flags has RPAL_MSG_DONTWAIT:
 * then -EAGAIN (nothing sent, req->data still the caller's) and
 * EPOLLRPALOUT once there is room. Returns 0; -EAGAIN; -EINVAL; -ECONNRESET.
 * Exactly one outcome per call: when this returns an error no completion
 * follows. */
int rpal_call_submit(struct rpal_conn *conn, const struct rpal_msg *req, uint64_t user_data,
                     uint64_t *id);

/* Submits a call as rpal_call_submit() does, then spins on this thread for
 * up to spin_ns (< 0: the spin budget) for its reply, taking it itself. A
 * fast peer's answer so completes the call here, without waking an epoll
 * waiter. Returns 1 and fills *done (no completion follows); 0 when the
 * spin ended first: the call goes on as a submitted call (its completion
 * through rpal_call_complete(), EPOLLRPALREPLY); or rpal_call_submit()'s
 * errors. *id (may be NULL) receives the call id either way. */
int rpal_call_submit_spin(struct rpal_conn *conn, const struct rpal_msg *req, uint64_t user_data,
                          int64_t spin_ns, uint64_t *id, struct rpal_completion *done);

/* A blocking call that its caller can give up without leaking anything: waits
 * as rpal_call() does (spin, then park) up to timeout_ms (< 0: forever) for
 * the reply. Returns 1 and fills *done (no completion follows); 0 when the
 * timeout passed first: the call goes on as a submitted call, whose
 * completion (the late reply, or the connection's end) rpal_call_complete()
 * takes, tagged with user_data, so the caller knows when the call no longer
 * holds its slot; -ETIMEDOUT when the timeout passed before the request could
 * be sent (no free call slot or ring room; req->data is freed, no completion
 * follows); or rpal_call_submit()'s errors. req->flags must be 0. *id (may be
 * NULL) receives the call id. */
int rpal_call_submit_wait(struct rpal_conn *conn, const struct rpal_msg *req, uint64_t user_data,
                          int timeout_ms, uint64_t *id, struct rpal_completion *done);

/* Takes one completion of a submitted call without waiting. Returns 0 and
 * *c; -EAGAIN when none is ready; once the connection has failed and every
 * completion was taken, the connection's error. Completions are made ready by
 * rpal_epoll_wait() (EPOLLRPALREPLY) or by this call itself when it finds
 * replies in the ring. When the peer dies every submitted call completes
 * with res -ECONNRESET. */
int rpal_call_complete(struct rpal_conn *conn, struct rpal_completion *c);

/* --------------------------------------------------------------------- epoll */

/* Creates an epoll instance that also reports RPAL events. flags as for
 * epoll_create1(). Returns the fd (>= 0) or -errno. Close it with
 * rpal_epoll_close(). */
int rpal_epoll_create(int flags);

/* Closes an instance from rpal_epoll_create(). Returns 0 or -EBADF. */
int rpal_epoll_close(int epfd);

/* As epoll_ctl(), and when fd is rpal_conn_fd(conn) the connection's RPAL
 * events (EPOLLRPALIN, EPOLLRPALREPLY, EPOLLRPALHUP, EPOLLRPALOUT; 0 means all) are
 * reported with ev->data. EPOLLET and EPOLLONESHOT are not supported for
 * connections (-EINVAL). A connection may be in one instance at a time
 * (-EBUSY). Returns 0 or -errno. */
int rpal_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);

/* As epoll_wait(): returns the number of events (0 on timeout) or -errno.
 * RPAL events are level-triggered: EPOLLRPALIN stays reported while
 * rpal_recv() would return a message. While no event is ready the caller
 * spins for the spin budget (checking ordinary fds every few microseconds),
 * then parks in the kernel; a sender wakes it. Also the progress engine:
 * it takes replies and buffer releases from the rings of the connections in
 * the set, and notices dead peers (their calls fail at once). */
int rpal_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout_ms);

/* -------------------------------------------------------------------- fibers */

/* A user-mode execution context (x86-64): a receiver thread can run many
 * handlers, each on its own stack, and switch between them without the
 * kernel. */
struct rpal_fiber {
    void *sp;  /* saved stack pointer while the fiber is switched out */
};

typedef void (*rpal_fiber_fn)(void *arg);

/* Prepares f to run fn(arg) on [stack, stack + size) at its first
 * rpal_fiber_switch() into it. size >= 4096. fn must not return: it ends by
 * switching away for the last time. Returns 0 or -EINVAL. */
int rpal_fiber_make(struct rpal_fiber *f, void *stack, size_t size, rpal_fiber_fn fn, void *arg);

/* Saves the current context into from and resumes to. Callee-saved
 * registers, the stack, MXCSR and the x87 control word are switched; nothing
 * else (signal mask, thread-locals stay). Returns when something switches
 * back to from. */
void rpal_fiber_switch(struct rpal_fiber *from, struct rpal_fiber *to);

#ifdef __cplusplus
}
#endif
#endif /* RPAL_H */
