/* SPDX-License-Identifier: MIT */
/*
 * The handshake over the service's SOCK_SEQPACKET socket:
 *   client -> server  HELLO   + [arena fd (read-only)]
 *   server -> client  WELCOME + [arena fd (read-only)]
 *                  or REFUSE  (status = -errno)
 * Each side authenticates the other with SO_PEERCRED (same uid, or a user
 * its rpal_access admits), checks the
 * message and the seals of the arena before mapping it. The socket then
 * stays open: its end (EOF) tells that the peer closed or died.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define HS_SERVER_TIMEOUT_MS RPAL_HELLO_TIMEOUT_MS
#define HS_CLIENT_TIMEOUT_MS 2000

static void set_timeouts(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static void hs_fill(struct rpal_hs_msg *m, int type)
{
    memset(m, 0, sizeof *m);
    m->magic = RPAL_MAGIC;
    m->protocol = RPAL_PROTOCOL;
    m->type = (uint16_t)type;
    m->slot = g_rt.slot;
    m->window_base = g_rt.opt.window_base;
    m->slot_size = g_rt.opt.slot_size;
    m->slot_count = g_rt.opt.slot_count;
    m->ring_entries = g_rt.opt.ring_entries;
    m->arena_size = g_rt.opt.arena_size;
}

static int hs_send(int fd, const struct rpal_hs_msg *m, const int *fds, int nfds)
{
    struct iovec iov = {.iov_base = (void *)m, .iov_len = sizeof *m};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds) {
        memset(&u, 0, sizeof u);
        mh.msg_control = u.buf;
        mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
        memcpy(CMSG_DATA(cm), fds, (size_t)nfds * sizeof(int));
    }
    ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
    if (n < 0)
        return errno == EAGAIN ? -ETIMEDOUT : -errno;
    return n == (ssize_t)sizeof *m ? 0 : -EIO;
}

/* Sends REFUSE. What the peer sent and we did not read (a hello refused
 * before it was read, for another uid) is dropped first, without waiting,
 * after shutting our receive side so nothing more arrives: closing a unix
 * socket with unread data makes the peer's next receive fail with
 * ECONNRESET before it sees the REFUSE. */
/* Closes the fds a received message carried (SCM_RIGHTS). */
static void close_passed_fds(struct msghdr *mh)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        for (size_t k = 0; k < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
            int f;
            memcpy(&f, CMSG_DATA(cm) + k * sizeof(int), sizeof f);
            close(f);
        }
    }
}

void handshake_refuse(int fd, int status)
{
    shutdown(fd, SHUT_RD);
    for (int i = 0; i < 4; i++) {
        char buf[256];
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
        union {
            char buf[CMSG_SPACE(8 * sizeof(int))];
            struct cmsghdr align;
        } u;
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                            .msg_controllen = sizeof u.buf};
        if (recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
            break;
        close_passed_fds(&mh);
    }
    struct rpal_hs_msg m;
    hs_fill(&m, RPAL_HS_REFUSE);
    m.status = status;
    hs_send(fd, &m, NULL, 0);
}

/* Parses what recvmsg() returned (n, the message in mh's one iovec, the
 * kernel-written control data) and, for HELLO/WELCOME, keeps exactly one fd
 * (the arena) in *arena. Every fd that arrived is either returned or closed.
 * The message bytes are the peer's; only the control data's framing is
 * trusted (the kernel writes it). */
int handshake_parse(const struct msghdr *mh, ssize_t n, struct rpal_hs_msg *m, int *arena)
{
    *arena = -1;
    int got = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR((struct msghdr *)mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int f;
            memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof f);
            if (got == 0)
                *arena = f;
            else
                close(f);
            got++;
        }
    }
    if (n == 0) {
        rpal_log(LOG_WARN, RPAL_LOG_HANDSHAKE_ABORTED,
                 "handshake: the peer closed the connection without a message");
        if (*arena >= 0)
            close(*arena);
        *arena = -1;
        return -ECONNREFUSED;
    }
    if ((size_t)n != sizeof *m || (mh->msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
        m->magic != RPAL_MAGIC) {
        rpal_log(LOG_ERR, RPAL_LOG_HANDSHAKE_INVALID, "malformed handshake message (%zd bytes)", n);
        goto bad;
    }
    if (m->protocol != RPAL_PROTOCOL) {
        rpal_log(LOG_ERR, RPAL_LOG_HANDSHAKE_INVALID,
                 "peer speaks protocol %u, we speak %u", m->protocol, RPAL_PROTOCOL);
        goto bad;
    }
    if (m->type == RPAL_HS_REFUSE) {
        if (*arena >= 0)
            close(*arena);
        *arena = -1;
        return 0;
    }
    if (got != 1) {
        rpal_log(LOG_ERR, RPAL_LOG_HANDSHAKE_INVALID, "handshake carried %d fds, expected 1", got);
        goto bad;
    }
    return 0;
bad:
    if (*arena >= 0)
        close(*arena);
    *arena = -1;
    return -EPROTO;
}

/* Receives one message (see handshake_parse()). */
static int hs_recv(int fd, struct rpal_hs_msg *m, int *arena)
{
    struct iovec iov = {.iov_base = m, .iov_len = sizeof *m};
    union {
        char buf[CMSG_SPACE(8 * sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf};
    *arena = -1;
    ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    if (n < 0) {
        int rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
        rpal_log(LOG_WARN, RPAL_LOG_HANDSHAKE_ABORTED, "handshake %s",
                 rc == -ETIMEDOUT ? "timed out: the peer sent nothing" : strerror(-rc));
        return rc;
    }
    /* The kernel truncates the control data (MSG_CTRUNC) when it cannot
     * install the fds that came with the message, for want of a free fd
     * here: that is this process's fd limit, not a malformed message. (A
     * peer that sends more fds than the buffer holds is told apart by the
     * fds we can still open.) */
    if ((mh.msg_flags & MSG_CTRUNC) && limits_fds_exhausted(fd)) {
        close_passed_fds(&mh);
        rpal_log(LOG_ERR, RPAL_LOG_LIMIT,
                 "handshake: the peer's arena fd could not be received: this process "
                 "is out of file descriptors (RLIMIT_NOFILE)");
        return -EMFILE;
    }
    return handshake_parse(&mh, n, m, arena);
}

/* Checks a HELLO or WELCOME against our own layout. */
int handshake_validate(const struct rpal_hs_msg *m)
{
    const char *why = NULL;
    if (m->window_base != g_rt.opt.window_base || m->slot_size != g_rt.opt.slot_size ||
        m->slot_count != g_rt.opt.slot_count)
        why = "a different slot window";
    else if (m->slot < 0 || (uint32_t)m->slot >= g_rt.opt.slot_count || m->slot == g_rt.slot)
        why = "a bad slot";
    else if (m->ring_entries < 16 || m->ring_entries > 65536 ||
             (m->ring_entries & (m->ring_entries - 1)))
        why = "a bad ring size";
    else if (m->arena_size < RPAL_MIN_ARENA || m->arena_size > m->slot_size ||
             m->arena_size % 4096)
        why = "a bad arena size";
    else if (m->conn_off % RPAL_CACHELINE || m->conn_off < RPAL_ARENA_HEADER ||
             m->conn_off > m->arena_size ||
             m->arena_size - m->conn_off < conn_shm_size(m->ring_entries))
        why = "a connection block outside its arena";
    else if (memchr(m->name, 0, sizeof m->name) == NULL)
        why = "an unterminated name";
    if (why) {
        rpal_log(LOG_ERR, RPAL_LOG_HANDSHAKE_INVALID,
                 "handshake from slot %d refused: %s", m->slot, why);
        return -EPROTO;
    }
    return 0;
}

/* The peer must hold the registry lock of the slot it announces (see
 * registry_take_slot()); otherwise it could name the slot of another live
 * process and have its arena mapped over that process's arena here, breaking
 * every connection to it, or squat a free slot. F_GETLK reports the holder's
 * pid from the kernel. Call after handshake_validate(), which refuses our own slot:
 * closing an fd of a file this process holds a POSIX lock on drops the lock. */
static int hs_check_slot_owner(int slot, pid_t pid)
{
    if (slot == g_rt.slot)
        return -EPROTO;
    char name[32];
    snprintf(name, sizeof name, "slots/%d", slot);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int fd = openat(g_rt.dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    int rc = fd < 0 || fcntl(fd, F_GETLK, &fl) < 0 ? -errno : 0;
    if (fd >= 0)
        close(fd);
    if (rc == 0 && fl.l_type != F_UNLCK && fl.l_pid == pid)
        return 0;
    if (rc < 0)
        rpal_log(LOG_ERR, RPAL_LOG_HANDSHAKE_INVALID,
                 "pid %d announces slot %d, which cannot be checked: %s", (int)pid, slot,
                 strerror(-rc));
    else if (fl.l_type == F_UNLCK)
        rpal_log(LOG_ERR, RPAL_LOG_HANDSHAKE_INVALID,
                 "pid %d announces slot %d, which no process holds", (int)pid, slot);
    else
        rpal_log(LOG_ERR, RPAL_LOG_HANDSHAKE_INVALID,
                 "pid %d announces slot %d, which pid %d holds", (int)pid, slot,
                 (int)fl.l_pid);
    return -EPROTO;
}

static bool has_id(const uint32_t *v, uint32_t n, uint32_t id)
{
    for (uint32_t i = 0; i < n; i++)
        if (v[i] == id)
            return true;
    return false;
}

/* Whether a, besides our own uid, admits the peer behind fd: by uid, or by
 * its effective gid or one of its supplementary groups (SO_PEERGROUPS). */
static bool admitted(int fd, const struct ucred *cred, const struct rpal_access *a)
{
    if (cred->uid == geteuid())
        return true;
    if (!a)
        return false;
    if (has_id(a->uids, a->uid_count, cred->uid))
        return true;
    if (!a->gid_count)
        return false;
    if (has_id(a->gids, a->gid_count, cred->gid))
        return true;
    gid_t groups[256];
    socklen_t len = sizeof groups;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
        rpal_log(LOG_WARN, RPAL_LOG_PEER_REFUSED,
                 "cannot read the groups of pid %d: %s", (int)cred->pid,
                 strerror(errno));
        return false;
    }
    for (size_t i = 0; i < len / sizeof groups[0]; i++)
        if (has_id(a->gids, a->gid_count, groups[i]))
            return true;
    return false;
}

/* Reads the peer's credentials from the kernel and checks them: the server
 * against what the service admits (as_server), the client against the
 * servers it trusts. */
static int peer_cred(int fd, struct ucred *cred, const struct rpal_access *a, const char *name,
                     bool as_server)
{
    socklen_t len = sizeof *cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) < 0)
        return -errno;
    if (admitted(fd, cred, a))
        return 0;
    if (as_server)
        rpal_log(LOG_ERR, RPAL_LOG_PEER_REFUSED,
                 "service %s refused pid %d: it runs as uid %u gid %u, and the service admits "
                 "only uid %u and the users and groups in its allowlist",
                 name, (int)cred->pid, (unsigned)cred->uid, (unsigned)cred->gid,
                 (unsigned)geteuid());
    else
        rpal_log(LOG_ERR, RPAL_LOG_PEER_REFUSED,
                 "service %s is served by pid %d as uid %u, which this client does not trust "
                 "(only uid %u and the users and groups it names)",
                 name, (int)cred->pid, (unsigned)cred->uid, (unsigned)geteuid());
    return -EACCES;
}

/* Live connections accepted for the service with this key. */
static uint32_t live_conns(uint64_t key)
{
    uint32_t n = 0;
    pthread_mutex_lock(&g_rt.lock);
    for (struct rpal_conn *c = g_rt.conns; c; c = c->next_all)
        if (c->key == key && !atomic_load(&c->dead))
            n++;
    pthread_mutex_unlock(&g_rt.lock);
    return n;
}

/* Binds what the handshake learned to c and makes it live. */
static int finish(struct rpal_conn *c, int fd, const struct ucred *cred, const char *name,
                  uint64_t key)
{
    c->fd = fd;
    c->peer_pid = cred->pid;
    c->peer_uid = cred->uid;
    c->peer_gid = cred->gid;
    c->key = key;
    snprintf(c->name, sizeof c->name, "%s", name);
    if (c->pidfd < 0 && (c->pidfd = (int)syscall(SYS_pidfd_open, cred->pid, 0)) < 0)
        return -errno;
    conn_register(c);
    return 0;
}

/* Server: whether the process can take one more client and keep its
 * reserve of fds (limits.c); need = the fds the rest of its handshake and
 * its connection will open. Logs the refusal. */
static int fd_room(const char *name, pid_t pid, int need)
{
    int open_fds, limit;
    int rc = limits_fd_room(need, &open_fds, &limit);
    if (rc < 0)
        rpal_log(LOG_WARN, RPAL_LOG_PEER_REFUSED,
                 "service %s refused pid %d: %d of this process's %d file descriptors "
                 "(RLIMIT_NOFILE) are open, and the engine keeps %d free",
                 name, (int)pid, open_fds, limit, limits_fd_reserve(limit));
    return rc;
}

int handshake_fd_room(const struct rpal_service *svc, pid_t pid)
{
    /* the arena fd and the registry file of the hello, then the pidfd */
    return fd_room(svc->name, pid, 2);
}

/* Server, as soon as a client is accepted: is its user admitted? On refusal
 * the client is told and fd closed. */
int handshake_admit(int fd, const struct rpal_service *svc, struct ucred *cred)
{
    set_timeouts(fd, HS_SERVER_TIMEOUT_MS);
    int rc = peer_cred(fd, cred, &svc->allow, svc->name, true);
    if (rc < 0) {
        handshake_refuse(fd, rc);
        close(fd);
    }
    return rc;
}

/* Server, once the admitted client's hello is there (or it hung up): the
 * rest of the handshake. Takes fd. */
int handshake_server(int fd, const struct rpal_service *svc, const struct ucred *pcred,
                     struct rpal_conn **out)
{
    const char *name = svc->name;
    uint64_t key = svc->key;
    struct ucred cred = *pcred;
    struct rpal_hs_msg m;
    int arena_fd = -1;
    struct rpal_conn *c = NULL;
    int rc;
    uint32_t live;
    if (svc->max_conns && (live = live_conns(key)) >= svc->max_conns) {
        rpal_log(LOG_WARN, RPAL_LOG_PEER_REFUSED,
                 "service %s refused pid %d: it has %u live connections, its limit",
                 name, (int)cred.pid, live);
        rc = -EUSERS;
        goto refuse;
    }
    if ((rc = handshake_fd_room(svc, cred.pid)) < 0)
        goto refuse;
    if ((rc = hs_recv(fd, &m, &arena_fd)) < 0)
        goto refuse;
    if (m.type != RPAL_HS_HELLO) {
        rpal_log(LOG_ERR, RPAL_LOG_HANDSHAKE_INVALID,
                 "pid %d sent handshake message type %u, not a hello", (int)cred.pid,
                 m.type);
        rc = -EPROTO;
        goto refuse;
    }
    if ((rc = handshake_validate(&m)) < 0 || (rc = hs_check_slot_owner(m.slot, cred.pid)) < 0)
        goto refuse;
    if (strcmp(m.name, name) != 0) {
        rpal_log(LOG_ERR, RPAL_LOG_HANDSHAKE_INVALID,
                 "pid %d asked for service '%s' on the socket of '%s'", (int)cred.pid,
                 m.name, name);
        rc = -EPROTO;
        goto refuse;
    }
    if ((rc = conn_new(true, &c)) < 0) {
        if (rc == -ENOSPC)
            rpal_log(LOG_WARN, RPAL_LOG_PEER_REFUSED,
                     "service %s refused pid %d: connections hold %llu bytes of this process's "
                     "%llu-byte arena, and the engine keeps %u/%u of it for messages",
                     name, (int)cred.pid,
                     (unsigned long long)atomic_load(&g_rt.conn_bytes),
                     (unsigned long long)g_rt.opt.arena_size, RPAL_CONN_ARENA_SHARE - 1,
                     RPAL_CONN_ARENA_SHARE);
        else
            rpal_log(LOG_WARN, RPAL_LOG_PEER_REFUSED,
                     "service %s refused pid %d: no block for its connection: %s", name,
                     (int)cred.pid,
                     rc == -ENOMEM ? "the arena is full (messages hold it)" : strerror(-rc));
        c = NULL;
        goto refuse;
    }
    c->peer_pid = cred.pid;
    if ((rc = conn_attach_peer(c, &m, arena_fd)) < 0)
        goto refuse;
    close(arena_fd); /* the mapping keeps the arena */
    arena_fd = -1;
    /* the pidfd before the welcome: once welcomed, the client believes it
     * is connected, so running out of fds must refuse it here */
    if ((c->pidfd = (int)syscall(SYS_pidfd_open, cred.pid, 0)) < 0) {
        rc = -errno;
        rpal_log(LOG_WARN, RPAL_LOG_PEER_REFUSED,
                 "service %s refused pid %d: cannot watch it: %s", name, (int)cred.pid,
                 strerror(-rc));
        goto refuse;
    }

    struct rpal_hs_msg w;
    hs_fill(&w, RPAL_HS_WELCOME);
    w.conn_off = (uint64_t)((char *)c->self - g_rt.arena);
    w.incarnation = c->self->incarnation;
    w.key = key;
    snprintf(w.name, sizeof w.name, "%s", name);
    if ((rc = hs_send(fd, &w, &g_rt.arena_ro_fd, 1)) < 0)
        goto fail;
    if ((rc = finish(c, fd, &cred, name, key)) < 0)
        goto fail;
    *out = c;
    return 0;
refuse:
    handshake_refuse(fd, rc);
fail:
    if (arena_fd >= 0)
        close(arena_fd);
    if (c) {
        c->fd = -1;
        conn_destroy(c);
    }
    close(fd);
    return rc;
}

int handshake_client(const char *name, const struct rpal_access *trust, struct rpal_conn **out)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int rc = registry_socket_path(name, sun.sun_path, sizeof sun.sun_path);
    if (rc < 0)
        return rc;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct rpal_conn *c = NULL;
    int arena_fd = -1;
    struct ucred cred;
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
        rc = (errno == ENOENT || errno == ECONNREFUSED) ? -ENOENT : -errno;
        goto fail;
    }
    set_timeouts(fd, HS_CLIENT_TIMEOUT_MS);
    if ((rc = peer_cred(fd, &cred, trust, name, false)) < 0)
        goto fail;
    if ((rc = conn_new(false, &c)) < 0) {
        c = NULL;
        goto fail;
    }
    struct rpal_hs_msg m;
    hs_fill(&m, RPAL_HS_HELLO);
    m.conn_off = (uint64_t)((char *)c->self - g_rt.arena);
    m.incarnation = c->self->incarnation;
    snprintf(m.name, sizeof m.name, "%s", name);
    /* A server that refuses us on our credentials or its connection limit
     * may answer and close before our hello arrives: the send then fails
     * with EPIPE, and its REFUSE is still there to read. */
    int sent = hs_send(fd, &m, &g_rt.arena_ro_fd, 1);
    if (sent < 0 && sent != -EPIPE && sent != -ECONNRESET) {
        rc = sent;
        goto fail;
    }
    struct rpal_hs_msg w;
    if ((rc = hs_recv(fd, &w, &arena_fd)) < 0)
        goto fail;
    if (sent < 0 && w.type != RPAL_HS_REFUSE) {
        rc = sent;
        goto fail;
    }
    if (w.type == RPAL_HS_REFUSE) {
        rc = (w.status < 0 && w.status > -4096) ? w.status : -ECONNREFUSED;
        rpal_log(LOG_ERR, RPAL_LOG_REFUSED_BY_PEER,
                 "service %s refused us: %s", name, strerror(-rc));
        goto fail;
    }
    if (w.type != RPAL_HS_WELCOME) {
        rpal_log(LOG_ERR, RPAL_LOG_HANDSHAKE_INVALID,
                 "service %s sent handshake message type %u, not a welcome", name, w.type);
        rc = -EPROTO;
        goto fail;
    }
    if ((rc = handshake_validate(&w)) < 0 || (rc = hs_check_slot_owner(w.slot, cred.pid)) < 0)
        goto fail;
    c->peer_pid = cred.pid;
    if ((rc = conn_attach_peer(c, &w, arena_fd)) < 0)
        goto fail;
    close(arena_fd);
    arena_fd = -1;
    if ((rc = finish(c, fd, &cred, name, w.key)) < 0)
        goto fail;
    *out = c;
    return 0;
fail:
    if (arena_fd >= 0)
        close(arena_fd);
    if (c) {
        c->fd = -1;
        conn_destroy(c);
    }
    close(fd);
    return rc;
}
