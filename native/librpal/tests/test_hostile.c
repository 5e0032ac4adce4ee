/* SPDX-License-Identifier: MIT */
/*
 * Hostile peers. The parent forks its children first (a process must not
 * keep using RPAL across fork), then becomes a server that serves, in one
 * rpal_epoll_wait loop, a well-behaved client calling it the whole time
 * while other children misbehave:
 *  - a raw client (no RPAL: it holds a slot lock and builds a sealed memfd
 *    arena by hand to look legitimate) speaks the handshake over the
 *    service's SOCK_SEQPACKET socket with struct rpal_hs_msg and SCM_RIGHTS
 *    (one fd, the arena), with one thing wrong per case, and floods the
 *    service with connections that send nothing;
 *  - a hostile RPAL client completes the normal handshake, then writes
 *    descriptors (hand-made or of seeded random bytes) and ring positions
 *    into its own connection block by hand, wakes the server with bytes on
 *    its connection socket (as ring.c does, and in a flood), makes calls
 *    whose replies it never takes, sends payloads at odd addresses, and
 *    tries to shrink and grow its sealed arena memfd.
 * For every case the server must stay up, the good client's calls must keep
 * succeeding, only the offending connection or call may fail, with the
 * error the API documents, and the server must log a reason (checked
 * through rpal_set_logger). The server checks every payload it is handed
 * against rpal_conn_info's arena_base/arena_size and reads its first and
 * last byte.
 *
 * The flood case holds FLOOD_SILENT silent connections open: rpal_accept()
 * never waits for a hello (a silent client waits in the service's set until
 * its 500 ms are up), so the good client keeps being served meanwhile, and
 * all of them are dropped together; then FLOOD_CONNECTS connections connect
 * and close without a word (each is refused at once).
 *
 * Each case is a row of s_cases (at the end), runnable alone:
 *   test_hostile --list             prints the case names, one a line
 *   test_hostile NAME...            runs only these cases (exact names)
 *   RPAL_HOSTILE_CASE=NAME          the same, for one case
 *   RPAL_HOSTILE_CASES=substring    the cases whose name contains it
 * A selection that matches no case fails (exit 1); a run whose every case
 * skipped exits 77. Every run sets up the same server, good client and
 * misbehaving clients first, so a case does not depend on the ones before.
 * A case that hangs the server trips a watchdog (alarm) and fails.
 */
#include <dirent.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "test_util.h"
#include "internal.h"

#define GOOD_TAG 0x600dull
#define REPLY_STOP 0x5709ull
#define HELD_LEN 4096
#define HELD_SEED 0x77
enum { OP_PLAIN = 0, OP_WANT_DATA = 1, OP_ECHO = 2, OP_HELD = 3 };

#define RAW_ARENA (1u << 20)
#define RAW_ENTRIES 16u
#define RAW_CONN_OFF 4096u
#define FLOOD_OVER 16 /* silent clients past RPAL_PENDING_MAX: refused -EBUSY at once */
#define FLOOD_SILENT (RPAL_PENDING_MAX + FLOOD_OVER)
#define FLOOD_CONNECTS 200
#define FLIP_MS 400
#define MAX_CONNS 64
#define MAX_ACCEPTS 1024
#define NO_CONSUME_RINGS 64 /* calls the no-consume case may make, in rings of the server's */
#define WAKE_FLOOD 100000   /* wake-up bytes the flood case sends */

/* ---------------------------------------------------------------- channels */

/* Parent -> child commands, child -> parent reports; both fit PIPE_BUF, so
 * each write is atomic. */
struct cmd {
    int32_t op, sub;
    uint64_t a, b;
};
struct rep {
    int32_t op, sub;
    int32_t rc; /* 0: the child saw what it expected */
    int32_t pad;
    int64_t v[6];
};

enum { CH_G, CH_R, CH_H, NCH };
static const char *const s_chname[NCH] = {"good client", "raw client", "hostile client"};
struct chan {
    int cmd_rd, cmd_wr, rep_rd, rep_wr;
};
static struct chan s_ch[NCH];
static pid_t s_pid[NCH];
static const char *s_name;

static void chan_open(struct chan *ch)
{
    int a[2], b[2];
    CHECK(pipe2(a, O_CLOEXEC) == 0 && pipe2(b, O_CLOEXEC) == 0);
    ch->cmd_rd = a[0];
    ch->cmd_wr = a[1];
    ch->rep_rd = b[0];
    ch->rep_wr = b[1];
}

/* In child `me`: die with the parent, keep only our own two pipe ends. */
static void child_setup(int me)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (int i = 0; i < NCH; i++) {
        if (i != me) {
            close(s_ch[i].cmd_rd);
            close(s_ch[i].rep_wr);
        }
        close(s_ch[i].cmd_wr);
        close(s_ch[i].rep_rd);
    }
}

static void child_cmd(int me, struct cmd *k)
{
    struct pollfd p = {.fd = s_ch[me].cmd_rd, .events = POLLIN};
    int n;
    do {
        n = poll(&p, 1, 60000);
    } while (n < 0 && errno == EINTR);
    if (n != 1 || read(s_ch[me].cmd_rd, k, sizeof *k) != (ssize_t)sizeof *k) {
        fprintf(stderr, "%s: no command from the server\n", s_chname[me]);
        exit(TEST_FAIL);
    }
}

static void child_report(int me, const struct rep *r)
{
    CHECK(write(s_ch[me].rep_wr, r, sizeof *r) == (ssize_t)sizeof *r);
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 31 + seed);
}

static bool check_fill(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 31 + seed))
            return false;
    return true;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------ the good client (G) */

static int good_main(void *arg)
{
    (void)arg;
    child_setup(CH_G);
    struct cmd k;
    child_cmd(CH_G, &k);
    test_init();
    struct rpal_conn *c = test_connect(s_name, 5000);
    struct rpal_msg held = {0};
    int64_t max_ns = 0;
    uint64_t i;
    for (i = 0;; i++) {
        struct rpal_msg req = {.words = {i, GOOD_TAG, i == 0 ? OP_HELD : OP_PLAIN}}, rep;
        int64_t t0 = test_now_ns();
        int rc = rpal_call(c, &req, &rep, 5000);
        int64_t ns = test_now_ns() - t0;
        if (rc < 0) {
            fprintf(stderr, "good client: call %llu failed: %s\n", (unsigned long long)i,
                    strerror(-rc));
            return TEST_FAIL;
        }
        max_ns = ns > max_ns ? ns : max_ns;
        CHECK(rep.words[0] == 2 * i + 1);
        if (i == 0) {
            /* kept until the end: hostile peers try to release it */
            CHECK(rep.data && rep.len == HELD_LEN && check_fill(rep.data, HELD_LEN, HELD_SEED));
            held = rep;
        } else if (rep.data) {
            CHECK(rep.len == 128 && check_fill(rep.data, 128, (unsigned)i));
            CHECK_OK(rpal_release(c, &rep));
        }
        if (rep.words[1] == REPLY_STOP)
            break;
        sleep_us(100); /* two cores: leave some for the others */
    }
    struct rep r = {.op = 1};
    r.v[0] = (int64_t)(i + 1);
    r.v[1] = max_ns;
    r.v[2] = check_fill(held.data, HELD_LEN, HELD_SEED);
    CHECK_OK(rpal_release(c, &held));
    struct rpal_conn_stats st;
    CHECK_OK(rpal_conn_stats(c, &st));
    r.v[3] = (int64_t)st.rejected;
    CHECK_OK(rpal_release_service(c));
    CHECK_OK(rpal_exit());
    child_report(CH_G, &r);
    return 0;
}

/* --------------------------------------------------------- the raw client (R) */

enum {
    R_START = 1,
    R_CONTROL,
    R_PROTOCOL,
    R_MAGIC,
    R_TRUNCATED,
    R_OVERSIZED,
    R_UNTERMINATED,
    R_TYPE,
    R_FDS,
    R_UNSEALED,
    R_SIZE,
    R_CONN_OFF,
    R_UNINIT,
    R_SLOT,
    R_WINDOW,
    R_SLOT_NOT_HELD,
    R_UID,
    R_FLOOD_SILENT,
    R_FLOOD_RELEASE,
    R_QUIT,
};

static struct {
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char dir[256];
    struct rpal_options o;
    int slot, slot_fd;
    int held[FLOOD_SILENT];
    int keep_sock, keep_fd;
    char *keep_map;
} s_raw;

/* The runtime directory as librpal finds it. */
static void runtime_dir(char *out, size_t n)
{
    const char *env = getenv("RPAL_RUNTIME_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
    if (env && *env)
        snprintf(out, n, "%s", env);
    else if (xdg && *xdg)
        snprintf(out, n, "%s/rpal", xdg);
    else
        snprintf(out, n, "/tmp/rpal-%u", (unsigned)geteuid());
}

/* Takes a slot the way librpal does (a write lock on slots/N), from the
 * top, so the raw client owns the slot it announces. */
static void raw_setup(void)
{
    CHECK_OK(rpal_options_init(&s_raw.o));
    runtime_dir(s_raw.dir, sizeof s_raw.dir);
    CHECK(snprintf(s_raw.path, sizeof s_raw.path, "%s/services/%s.sock", s_raw.dir, s_name) <
          (int)sizeof s_raw.path);
    for (int i = (int)s_raw.o.slot_count - 1; i >= 0; i--) {
        char p[300];
        snprintf(p, sizeof p, "%s/slots/%d", s_raw.dir, i);
        int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        CHECK(fd >= 0);
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        if (fcntl(fd, F_SETLK, &fl) == 0) {
            s_raw.slot = i;
            s_raw.slot_fd = fd;
            return;
        }
        close(fd);
    }
    CHECK(!"no free slot for the raw client");
}

/* A slot nobody holds (below ours). */
static int raw_free_slot(void)
{
    for (int i = s_raw.slot - 1; i >= 0; i--) {
        char p[300];
        snprintf(p, sizeof p, "%s/slots/%d", s_raw.dir, i);
        int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        CHECK(fd >= 0);
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        CHECK(fcntl(fd, F_GETLK, &fl) == 0);
        close(fd); /* we hold no lock on it: closing drops nothing */
        if (fl.l_type == F_UNLCK)
            return i;
    }
    CHECK(!"no free slot");
    return -1;
}

/* A memfd arena of `size` bytes, sealed against shrinking and growing when
 * seal, with an initialised connection block at RAW_CONN_OFF when init. */
static int raw_arena(uint64_t size, bool seal, bool init, char **map)
{
    int fd = memfd_create("hostile-arena", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, (off_t)size) == 0);
    char *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    struct rpal_arena_header *h = (struct rpal_arena_header *)m;
    h->magic = RPAL_MAGIC;
    h->protocol = RPAL_PROTOCOL;
    h->pid = getpid();
    h->slot = s_raw.slot;
    h->size = size;
    if (init) {
        struct rpal_conn_shm *s = (struct rpal_conn_shm *)(m + RAW_CONN_OFF);
        s->magic = RPAL_MAGIC;
        s->ring_entries = RAW_ENTRIES;
    }
    if (seal)
        CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0);
    if (map)
        *map = m;
    else
        munmap(m, size);
    return fd;
}

static void raw_hello(struct rpal_hs_msg *m)
{
    memset(m, 0, sizeof *m);
    m->magic = RPAL_MAGIC;
    m->protocol = RPAL_PROTOCOL;
    m->type = RPAL_HS_HELLO;
    m->slot = s_raw.slot;
    m->window_base = s_raw.o.window_base;
    m->slot_size = s_raw.o.slot_size;
    m->slot_count = s_raw.o.slot_count;
    m->ring_entries = RAW_ENTRIES;
    m->arena_size = RAW_ARENA;
    m->conn_off = RAW_CONN_OFF;
    snprintf(m->name, sizeof m->name, "%s", s_name);
}

static int raw_connect(void)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    memcpy(sun.sun_path, s_raw.path, sizeof sun.sun_path);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
        fprintf(stderr, "raw client: connect: %s\n", strerror(errno));
        exit(TEST_FAIL);
    }
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* Sends one datagram; false if the server already closed the connection. */
static bool raw_send(int fd, const void *buf, size_t len, const int *fds, int nfds)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    union {
        char buf[CMSG_SPACE(4 * sizeof(int))];
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
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
        return false;
    CHECK(n == (ssize_t)len);
    return true;
}

/* Reads the server's answer into r: v[0] type (0 EOF, -errno error),
 * v[1] status, v[2] fds received. The first fd is kept in *keep when
 * given; the others are closed. */
static void raw_answer(int fd, struct rep *r, int *keep)
{
    struct rpal_hs_msg w;
    struct iovec iov = {.iov_base = &w, .iov_len = sizeof w};
    union {
        char buf[CMSG_SPACE(4 * sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf};
    ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    if (n <= 0) {
        r->v[0] = n < 0 ? -errno : 0;
        return;
    }
    CHECK(n == (ssize_t)sizeof w && w.magic == RPAL_MAGIC);
    r->v[0] = w.type;
    r->v[1] = w.status;
    int got = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int f;
            memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof f);
            if (keep && got == 0)
                *keep = f;
            else
                close(f);
            got++;
        }
    }
    r->v[2] = got;
}

/* One handshake with one thing wrong (op, sub); arg is a slot where the
 * case needs one. */
static void raw_case(const struct cmd *k, struct rep *r)
{
    struct rpal_hs_msg m;
    raw_hello(&m);
    char *map = NULL;
    bool keep = false;
    int fds[3] = {-1, -1, -1}, nfds = 1;
    int arena_size = RAW_ARENA;
    bool seal = true, init = true;
    unsigned char big[sizeof m + 64];
    const void *buf = &m;
    size_t len = sizeof m;

    switch (k->op) {
    case R_CONTROL:
        break;
    case R_PROTOCOL:
        m.protocol = RPAL_PROTOCOL + 1;
        break;
    case R_MAGIC:
        m.magic = ~RPAL_MAGIC;
        break;
    case R_TRUNCATED:
        len = 100;
        break;
    case R_OVERSIZED:
        if (k->sub == 0) { /* a datagram longer than a hello: the name runs on */
            memset(m.name, 'n', sizeof m.name);
            memcpy(big, &m, sizeof m);
            memset(big + offsetof(struct rpal_hs_msg, name), 'n',
                   sizeof big - offsetof(struct rpal_hs_msg, name) - 1);
            big[sizeof big - 1] = 0;
            buf = big;
            len = sizeof big;
        } else { /* the longest valid name, but not this service's */
            memset(m.name, 'n', RPAL_NAME_MAX);
            m.name[RPAL_NAME_MAX] = 0;
        }
        break;
    case R_UNTERMINATED:
        memset(m.name, 'a', sizeof m.name);
        break;
    case R_TYPE:
        m.type = k->sub == 0 ? RPAL_HS_WELCOME : k->sub == 1 ? RPAL_HS_REFUSE : 77;
        break;
    case R_FDS:
        /* 0: none; 2: the arena and an eventfd (the old protocol's
         * doorbell); 3: the arena and two eventfds */
        nfds = k->sub;
        break;
    case R_UNSEALED:
        seal = false;
        break;
    case R_SIZE:
        if (k->sub == 0)
            m.arena_size = 2 * RAW_ARENA; /* announces more than it sends */
        else
            arena_size = 2 * RAW_ARENA; /* sends more than it announces */
        break;
    case R_CONN_OFF: {
        static const uint64_t offs[] = {RAW_ARENA, RAW_ARENA - 64, UINT64_MAX & ~63ull, 64,
                                        RAW_CONN_OFF + 8};
        m.conn_off = offs[k->sub];
        break;
    }
    case R_UNINIT:
        init = false;
        break;
    case R_SLOT:
        m.slot = k->sub == 0 ? (int32_t)s_raw.o.slot_count : k->sub == 1 ? -1 : (int32_t)k->a;
        break;
    case R_WINDOW:
        if (k->sub == 0)
            m.window_base += m.slot_size;
        else if (k->sub == 1)
            m.slot_size *= 2;
        else
            m.slot_count /= 2;
        break;
    case R_SLOT_NOT_HELD:
        /* sub 0: the slot of a live peer (the good client); 1: a free one */
        m.slot = k->sub == 0 ? (int32_t)k->a : raw_free_slot();
        keep = true; /* if it gets in, hold it so the damage shows */
        break;
    case R_UID:
        break;
    default:
        CHECK(!"unknown raw case");
    }

    fds[0] = raw_arena((uint64_t)arena_size, seal, init, &map);
    for (int i = 1; i < nfds; i++)
        CHECK((fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) >= 0);

    int sock;
    if (k->op == R_UID) {
        /* connect as another uid (SO_PEERCRED takes the euid at connect);
         * fsuid 0 keeps the 0700 runtime directory reachable */
        CHECK(seteuid(65534) == 0);
        setfsuid(0);
        sock = raw_connect();
        CHECK(seteuid(0) == 0);
    } else {
        sock = raw_connect();
    }
    /* a peer of another uid is refused without waiting for its hello: the
     * server may have answered and closed before we send */
    bool sent = raw_send(sock, buf, len, nfds ? fds : NULL, nfds);
    CHECK(sent || k->op == R_UID);
    int wfd = -1;
    raw_answer(sock, r, &wfd);
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (keep && r->v[0] == RPAL_HS_WELCOME) {
        /* stay connected: the server has our arena mapped */
        s_raw.keep_sock = sock;
        s_raw.keep_fd = wfd;
        s_raw.keep_map = map;
        return;
    }
    if (wfd >= 0)
        close(wfd);
    munmap(map, (size_t)arena_size);
    close(sock); /* a welcomed control connection ends here: the server sees it hang up */
}

static void raw_drop_kept(void)
{
    if (s_raw.keep_sock > 0) {
        close(s_raw.keep_sock);
        if (s_raw.keep_fd >= 0)
            close(s_raw.keep_fd);
        munmap(s_raw.keep_map, RAW_ARENA);
        s_raw.keep_sock = 0;
    }
}

static int raw_main(void *arg)
{
    (void)arg;
    child_setup(CH_R);
    for (;;) {
        struct cmd k;
        child_cmd(CH_R, &k);
        struct rep r = {.op = k.op, .sub = k.sub};
        switch (k.op) {
        case R_START:
            raw_setup();
            r.v[0] = s_raw.slot;
            break;
        case R_FLOOD_SILENT:
            for (int i = 0; i < FLOOD_SILENT; i++)
                s_raw.held[i] = raw_connect(); /* and say nothing */
            break;
        case R_FLOOD_RELEASE: {
            for (int i = 0; i < FLOOD_SILENT; i++)
                close(s_raw.held[i]);
            int64_t t0 = test_now_ns();
            for (int i = 0; i < FLOOD_CONNECTS; i++)
                close(raw_connect()); /* connect, say nothing, go */
            r.v[0] = (test_now_ns() - t0) / 1000000;
            break;
        }
        case R_QUIT:
            raw_drop_kept();
            child_report(CH_R, &r);
            return 0;
        default:
            raw_drop_kept();
            raw_case(&k, &r);
        }
        child_report(CH_R, &r);
    }
}

/* ---------------------------------------------------- the hostile client (H) */

enum {
    H_START = 1,
    H_BAD_PTR,
    H_BAD_LEN,
    H_FOREIGN_PTR,
    H_BAD_KIND,
    H_BAD_REPLY,
    H_BAD_RELEASE,
    H_REQ_TAIL_FWD,
    H_REQ_TAIL_NO_ENTRY,
    H_CTL_TAIL_FWD,
    H_CONSUMED_LIE,
    H_FLIP,
    H_FORGED_RELEASE,
    H_NO_CONSUME,
    H_WAKE_FLOOD,
    H_RANDOM,
    H_MISALIGNED,
    H_RESIZE,
    H_QUIT,
};

#define HID(n) (0xbad0000000000000ull | (n)) /* ids of hand-made calls */

static struct rpal_conn *s_hc; /* the hostile client's long-lived connection */
static uint64_t s_hping;

/* Wakes the server the way the protocol does (one byte on the connection's
 * socket, never blocking), whether or not it is parked. Returns 1 if the
 * byte was queued, 0 if the socket's queue is full (EAGAIN). */
static int h_wake(struct rpal_conn *c)
{
    static const char bell = 0;
    atomic_thread_fence(memory_order_seq_cst);
    if (send(c->fd, &bell, 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1)
        return 1;
    /* EPIPE/ECONNRESET: the server let the connection go already */
    CHECK(errno == EAGAIN || errno == EPIPE || errno == ECONNRESET);
    return 0;
}

/* The lap ring.c writes into the entry at position h of a ring of n. */
static uint16_t h_lap(uint32_t h, uint32_t n)
{
    return (uint16_t)(h / n + 1);
}

/* Publishes d on our own ring (ctl 0: req_out, 1: ctl_out) exactly as
 * ring.c does: reserve, store word by word with the position's lap, the
 * first word last (release), move tail (release); then wakes the server.
 * False, without publishing, when the ring is full. */
static bool h_try_publish(struct rpal_conn *c, int ctl, const struct rpal_desc *d)
{
    struct rpal_ring_prod *p = ctl ? &c->self->ctl_out : &c->self->req_out;
    const struct rpal_ring_cons *pc = ctl ? &c->peer->ctl_in : &c->peer->req_in;
    uint32_t n = c->self->ring_entries;
    uint32_t h = atomic_load_explicit(&p->reserve, memory_order_relaxed);
    if (h - atomic_load_explicit(&pc->tail, memory_order_acquire) >= n)
        return false;
    uint64_t *slot = (uint64_t *)&conn_shm_ring(c->self, ctl)[h & (n - 1)];
    struct rpal_desc e = *d;
    e.lap = h_lap(h, n);
    const uint64_t *src = (const uint64_t *)&e;
    for (int i = 1; i < 8; i++)
        __atomic_store_n(&slot[i], src[i], __ATOMIC_RELAXED);
    __atomic_store_n(&slot[0], src[0], __ATOMIC_RELEASE);
    atomic_store_explicit(&p->reserve, h + 1, memory_order_relaxed);
    atomic_store_explicit(&p->tail, h + 1, memory_order_release);
    h_wake(c);
    return true;
}

/* h_try_publish, waiting (up to 5 s) while the ring is full. */
static void h_publish(struct rpal_conn *c, int ctl, const struct rpal_desc *d)
{
    int64_t deadline = test_now_ns() + 5000000000ll;
    while (!h_try_publish(c, ctl, d)) {
        CHECK(test_now_ns() < deadline);
        sched_yield();
    }
}

/* Takes the server's next control descriptor (an answer) by hand. */
static bool h_take(struct rpal_conn *c, struct rpal_desc *d, int timeout_ms)
{
    struct rpal_ring_cons *cs = &c->self->ctl_in;
    const struct rpal_ring_prod *pp = &c->peer->ctl_out;
    uint32_t h = atomic_load_explicit(&cs->reserve, memory_order_relaxed);
    int64_t deadline = test_now_ns() + (int64_t)timeout_ms * 1000000;
    while (atomic_load_explicit(&pp->tail, memory_order_acquire) == h) {
        if (test_now_ns() > deadline)
            return false;
        sched_yield();
    }
    const uint64_t *s = (const uint64_t *)&c->peer_ctl[h & (c->peer_entries - 1)];
    uint64_t *o = (uint64_t *)d;
    for (int i = 0; i < 8; i++)
        o[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
    atomic_store_explicit(&cs->reserve, h + 1, memory_order_relaxed);
    atomic_store_explicit(&cs->tail, h + 1, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&c->peer->producers_parked, memory_order_relaxed))
        syscall(SYS_futex, &cs->tail, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    return true;
}

static void h_call(struct rpal_conn *c, uint64_t id, uint64_t ptr, uint64_t len)
{
    struct rpal_desc d = {.kind = RPAL_DESC_CALL, .id = id, .ptr = ptr, .len = len,
                          .words = {id & 0xffff, OP_PLAIN}};
    h_publish(c, 0, &d);
}

/* The answer to hand-made call id must be a FAIL with -EPROTO. */
static void h_expect_fail(struct rpal_conn *c, uint64_t id)
{
    struct rpal_desc d;
    CHECK(h_take(c, &d, 5000));
    if (d.kind != RPAL_DESC_FAIL || d.id != id || d.status != -EPROTO) {
        fprintf(stderr,
                "hostile: call %#llx answered kind %u id %#llx status %d, want FAIL -EPROTO\n",
                (unsigned long long)id, d.kind, (unsigned long long)d.id, d.status);
        exit(TEST_FAIL);
    }
}

static void h_expect_reply(struct rpal_conn *c, uint64_t id)
{
    struct rpal_desc d;
    CHECK(h_take(c, &d, 5000));
    if (d.kind != RPAL_DESC_REPLY || d.id != id || d.words[0] != 2 * (id & 0xffff) + 1) {
        fprintf(stderr, "hostile: call %#llx answered kind %u id %#llx status %d, want REPLY\n",
                (unsigned long long)id, d.kind, (unsigned long long)d.id, d.status);
        exit(TEST_FAIL);
    }
}

/* A normal call through the library: the connection still works. */
static void h_ping(struct rpal_conn *c)
{
    uint64_t k = ++s_hping;
    struct rpal_msg req = {.words = {k, OP_PLAIN}}, rep;
    CHECK_OK(rpal_call(c, &req, &rep, 5000));
    CHECK(rep.words[0] == 2 * k + 1 && rep.data == NULL);
}

/* Waits until the server released connection c (its closed flag). */
static bool h_wait_closed(struct rpal_conn *c, int timeout_ms)
{
    int64_t deadline = test_now_ns() + (int64_t)timeout_ms * 1000000;
    while (!atomic_load(&c->peer->closed)) {
        if (test_now_ns() > deadline)
            return false;
        sleep_us(200);
    }
    return true;
}

struct flip {
    struct rpal_conn *c;
    _Atomic bool stop;
    uint64_t ptrs[5], lens[4];
};

/* Rewrites ptr and len of every descriptor of the request ring, published
 * or not, as fast as it can. */
static void *flipper(void *arg)
{
    struct flip *f = arg;
    struct rpal_desc *ring = conn_shm_ring(f->c->self, 0);
    uint32_t n = f->c->self->ring_entries;
    uint64_t k = 0;
    while (!atomic_load_explicit(&f->stop, memory_order_relaxed)) {
        for (uint32_t i = 0; i < n; i++, k++) {
            __atomic_store_n(&ring[i].ptr, f->ptrs[k % 5], __ATOMIC_RELAXED);
            __atomic_store_n(&ring[i].len, f->lens[(k / 3) % 4], __ATOMIC_RELAXED);
        }
    }
    return NULL;
}

/* Hand-made calls on a fresh connection whose descriptors a second thread
 * keeps rewriting: each call is answered once, REPLY or FAIL -EPROTO. */
static void h_flip(const struct cmd *k, struct rep *r)
{
    struct rpal_conn *c = test_connect(s_name, 5000);
    uint64_t hb = k->a, hs = k->b;
    struct rpal_peer_info si;
    CHECK_OK(rpal_conn_info(c, &si));
    void *gp;
    CHECK_OK(rpal_alloc(256, &gp));
    fill(gp, 256, 5);
    struct flip f = {.c = c,
                     .ptrs = {(uint64_t)(uintptr_t)gp, si.arena_base + 4096, hb + hs - 8,
                              (uint64_t)(uintptr_t)gp, 0},
                     .lens = {256, UINT64_MAX, 256, hs}};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, flipper, &f) == 0);
    int64_t published = 0, replies = 0, fails = 0, outstanding = 0;
    /* FLIP_MS, longer (up to 3 s) until both outcomes were seen */
    int64_t t0 = test_now_ns(), deadline = t0 + FLIP_MS * 1000000ll, limit = t0 + 3000000000ll;
    for (;;) {
        int64_t now = test_now_ns();
        bool more = now < deadline || ((replies == 0 || fails == 0) && now < limit);
        while (more && outstanding < 32) {
            published++;
            struct rpal_desc d = {.kind = RPAL_DESC_CALL, .id = HID(published),
                                  .ptr = (uint64_t)(uintptr_t)gp, .len = 256,
                                  .words = {(uint64_t)published, OP_PLAIN}};
            h_publish(c, 0, &d);
            outstanding++;
        }
        if (!outstanding)
            break;
        struct rpal_desc a;
        CHECK(h_take(c, &a, 5000));
        if (a.kind == RPAL_DESC_REPLY) {
            CHECK(a.words[0] == 2 * (a.id & 0xffffffff) + 1);
            replies++;
        } else {
            CHECK(a.kind == RPAL_DESC_FAIL && a.status == -EPROTO);
            fails++;
        }
        outstanding--;
    }
    atomic_store(&f.stop, true);
    pthread_join(t, NULL);
    r->v[0] = published;
    r->v[1] = replies;
    r->v[2] = fails;
    CHECK_OK(rpal_release_service(c));
    CHECK_OK(rpal_free(gp));
}

/* A hand-made call with payload [ptr, ptr + len) asking for op. */
static void h_call_op(struct rpal_conn *c, uint64_t id, uint64_t ptr, uint64_t len, uint64_t op)
{
    struct rpal_desc d = {.kind = RPAL_DESC_CALL, .id = id, .ptr = ptr, .len = len,
                          .words = {id & 0xffff, op}};
    h_publish(c, 0, &d);
}

/* The answer to hand-made OP_ECHO call id must be a REPLY lending a copy of
 * exactly the len bytes at want; the copy is released at once. */
static void h_expect_echo(struct rpal_conn *c, uint64_t id, const void *want, uint64_t len)
{
    struct rpal_desc d;
    CHECK(h_take(c, &d, 5000));
    if (d.kind != RPAL_DESC_REPLY || d.id != id || d.words[0] != 2 * (id & 0xffff) + 1 ||
        d.len != len || !d.ptr || memcmp((const void *)(uintptr_t)d.ptr, want, len) != 0) {
        fprintf(stderr,
                "hostile: echo call %#llx answered kind %u id %#llx len %llu, want REPLY with "
                "the %llu bytes at %p\n",
                (unsigned long long)id, d.kind, (unsigned long long)d.id,
                (unsigned long long)d.len, (unsigned long long)len, want);
        exit(TEST_FAIL);
    }
    h_publish(c, 1, &(struct rpal_desc){.kind = RPAL_DESC_RELEASE, .ptr = d.ptr, .len = d.len});
}

/* splitmix64: the random descriptors, reproducible from the printed seed */
static uint64_t s_rng;
static uint64_t rnd(void)
{
    uint64_t z = (s_rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#define RANDOM_DESCS 4000 /* random descriptors the random case publishes */
#define RANDOM_PENDING 16 /* answers it lets the server owe before taking them */

/* What the server must send back for one random descriptor. */
struct expect {
    bool release; /* a RELEASE of [ptr, len) (a refused reply's payload, given back) */
    bool reply;   /* else: a REPLY (true) or a FAIL -EPROTO to call id */
    uint64_t id, w0, ptr, len;
};

/* Takes every answer the server owes (q[0..*n)), checking each: the call
 * answers in the order of the calls, the releases in the order of the
 * refused replies. */
static void h_take_expected(struct rpal_conn *c, const struct expect *q, int *n)
{
    int ai = 0, ri = 0, left = *n;
    while (left-- > 0) {
        struct rpal_desc d;
        CHECK(h_take(c, &d, 5000));
        bool rel = d.kind == RPAL_DESC_RELEASE;
        int *i = rel ? &ri : &ai;
        while (*i < *n && q[*i].release != rel)
            (*i)++;
        if (*i == *n) {
            fprintf(stderr, "hostile: unexpected answer kind %u id %#llx ptr %#llx\n", d.kind,
                    (unsigned long long)d.id, (unsigned long long)d.ptr);
            exit(TEST_FAIL);
        }
        const struct expect *e = &q[(*i)++];
        bool ok = rel ? d.ptr == e->ptr && d.len == e->len
                      : d.id == e->id &&
                            (e->reply ? d.kind == RPAL_DESC_REPLY && d.words[0] == e->w0 && !d.len
                                      : d.kind == RPAL_DESC_FAIL && d.status == -EPROTO);
        if (!ok) {
            fprintf(stderr,
                    "hostile: answer kind %u id %#llx status %d ptr %#llx len %llu, want %s "
                    "id %#llx ptr %#llx len %llu\n",
                    d.kind, (unsigned long long)d.id, d.status, (unsigned long long)d.ptr,
                    (unsigned long long)d.len,
                    rel ? "RELEASE" : e->reply ? "REPLY" : "FAIL -EPROTO",
                    (unsigned long long)e->id, (unsigned long long)e->ptr,
                    (unsigned long long)e->len);
            exit(TEST_FAIL);
        }
    }
    *n = 0;
}

/* RANDOM_DESCS descriptors of random bytes, a quarter on the control ring,
 * published the way ring.c publishes (only the contents are random, not
 * the ring positions). Kinds, pointers and lengths are drawn half the time
 * from what the checks care about (the valid kinds; pointers in, near and
 * at the end of our arena; lengths 0, small, huge) so that every branch of
 * the server's checks is reached. words[1] is kept off OP_WANT_DATA and
 * OP_ECHO (the test server's own opcodes: a random echo length would make
 * it allocate anything); everything else is random. The client predicts,
 * from protocol.md's rules, what the server does with each: serve it
 * (a call answered REPLY, a one-way message delivered), or reject it
 * (counted; a call answered FAIL -EPROTO; a refused reply whose payload is
 * inside our arena given back with a RELEASE); and checks every answer.
 * Reports v[0] calls served, v[1] one-way messages delivered, v[2]
 * descriptors rejected, v[3] published on the request ring, v[4] on the
 * control ring. */
static void h_random(struct rpal_conn *c, const struct cmd *k, struct rep *r)
{
    uint64_t hb = k->a, hs = k->b;
    s_rng = (uint32_t)k->sub;
    struct expect q[RANDOM_PENDING];
    int nq = 0;
    for (int i = 0; i < RANDOM_DESCS; i++) {
        struct rpal_desc d;
        uint64_t *w = (uint64_t *)&d;
        for (int j = 0; j < 8; j++)
            w[j] = rnd();
        int ctl = rnd() % 4 == 0;
        uint64_t x = rnd();
        if (x % 2 == 0) {
            static const uint32_t req_kinds[] = {RPAL_DESC_CALL, RPAL_DESC_CALL, RPAL_DESC_ONEWAY};
            static const uint32_t ctl_kinds[] = {RPAL_DESC_REPLY, RPAL_DESC_FAIL,
                                                 RPAL_DESC_RELEASE};
            d.kind = ctl ? ctl_kinds[(x >> 8) % 3] : req_kinds[(x >> 8) % 3];
        }
        switch ((x >> 16) % 4) {
        case 0: /* in or near our arena */
            d.ptr = hb - 8192 + rnd() % (hs + 16384);
            break;
        case 1: /* at its end */
            d.ptr = hb + hs - rnd() % 256;
            break;
        case 2: /* past its header, any alignment */
            d.ptr = hb + RPAL_ARENA_HEADER + rnd() % (hs - RPAL_ARENA_HEADER);
            break;
        default: /* random */
            break;
        }
        switch ((x >> 24) % 4) {
        case 0:
            d.len = 0;
            break;
        case 1:
            d.len = rnd() % 512;
            break;
        case 2:
            d.len = rnd() % (hs + 1);
            break;
        default: /* random */
            break;
        }
        if (x % 8 == 1)
            d.id = rnd() % 4; /* 0 (no call), or a small id */
        if (d.words[1] == OP_WANT_DATA || d.words[1] == OP_ECHO)
            d.words[1] = OP_PLAIN;

        /* protocol.md, "Descriptors": len 0 is no payload; otherwise the
         * payload must lie in our arena past its header */
        uint64_t lo = hb + RPAL_ARENA_HEADER, end = hb + hs;
        bool in = d.len == 0 || (d.ptr >= lo && d.ptr < end && d.len <= end - d.ptr);
        if (ctl) {
            /* the server made no call on this connection and lent it
             * nothing: every control descriptor is rejected */
            r->v[2]++;
            r->v[4]++;
            bool answer = d.kind == RPAL_DESC_REPLY || d.kind == RPAL_DESC_FAIL;
            if (answer && d.len && in)
                q[nq++] = (struct expect){.release = true, .ptr = d.ptr, .len = d.len};
        } else {
            r->v[3]++;
            bool call = d.kind == RPAL_DESC_CALL && d.id != 0;
            if (!call && d.kind != RPAL_DESC_ONEWAY)
                r->v[2]++;
            else if (!in)
                r->v[2]++;
            else if (call)
                r->v[0]++;
            else
                r->v[1]++;
            if (call)
                q[nq++] = (struct expect){.reply = in, .id = d.id, .w0 = 2 * d.words[0] + 1};
        }
        h_publish(c, ctl, &d);
        if (nq == RANDOM_PENDING)
            h_take_expected(c, q, &nq);
    }
    h_take_expected(c, q, &nq);
}

/* Our arena's memfd, as librpal opened it (read-write), found by name. */
static int h_arena_fd(void)
{
    DIR *d = opendir("/proc/self/fd");
    CHECK(d);
    int found = -1;
    struct dirent *e;
    while ((e = readdir(d)) && found < 0) {
        char p[300], l[256];
        snprintf(p, sizeof p, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(p, l, sizeof l - 1);
        if (n <= 0)
            continue;
        l[n] = 0;
        int fd = atoi(e->d_name);
        if (strncmp(l, "/memfd:rpal-arena", 17) == 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR)
            found = fd;
    }
    closedir(d);
    return found;
}

static int hostile_main(void *arg)
{
    (void)arg;
    child_setup(CH_H);
    for (;;) {
        struct cmd k;
        child_cmd(CH_H, &k);
        struct rep r = {.op = k.op, .sub = k.sub};
        struct rpal_conn *c = s_hc;
        uint64_t hb = k.a, hs = k.b; /* our arena, as the server maps it */
        struct rpal_peer_info si = {0};
        if (s_hc)
            CHECK_OK(rpal_conn_info(s_hc, &si));
        uint64_t sb = si.arena_base; /* the server's arena */
        switch (k.op) {
        case H_START:
            test_init();
            s_hc = test_connect(s_name, 5000);
            break;
        case H_BAD_PTR:
            h_call(c, HID(1), hb + hs + 4096, 64); /* past the end */
            h_call(c, HID(2), 0x1000, 8);           /* low memory */
            h_call(c, HID(3), hb + 64, 8);          /* the arena header */
            h_call(c, HID(4), hb - 4096, 16);       /* just below the arena */
            h_publish(c, 0, &(struct rpal_desc){.kind = RPAL_DESC_ONEWAY, .ptr = 0x10, .len = 8});
            h_call(c, HID(5), hb + 4096, 64);       /* control: valid */
            for (int i = 1; i <= 4; i++)
                h_expect_fail(c, HID(i));
            h_expect_reply(c, HID(5));
            h_ping(c);
            break;
        case H_BAD_LEN:
            h_call(c, HID(1), hb + hs - 64, 128);         /* runs past the end */
            h_call(c, HID(2), hb + 4096, UINT64_MAX);     /* ptr + len wraps */
            h_call(c, HID(3), UINT64_MAX - 15, 32);       /* ptr + len wraps */
            h_call(c, HID(4), hb + 4096, hs - 4096 + 1);  /* one byte too long */
            h_call(c, HID(5), hb + hs - 64, 64);          /* control: ends at the end */
            h_call(c, HID(6), hb + 4096, hs - 4096);      /* control: all of it */
            for (int i = 1; i <= 4; i++)
                h_expect_fail(c, HID(i));
            h_expect_reply(c, HID(5));
            h_expect_reply(c, HID(6));
            h_ping(c);
            break;
        case H_FOREIGN_PTR:
            h_call(c, HID(1), sb + 4096, 64);  /* the server's arena */
            h_call(c, HID(2), sb + 8192, 1);
            h_call(c, HID(3), k.a + 4096, 64); /* the good client's arena */
            h_call(c, HID(4), sb + 4096, 0);   /* control: len 0 = no payload */
            for (int i = 1; i <= 3; i++)
                h_expect_fail(c, HID(i));
            h_expect_reply(c, HID(4));
            h_ping(c);
            break;
        case H_BAD_KIND: {
            uint32_t t0 = atomic_load(&c->peer->ctl_out.tail);
            h_publish(c, 0, &(struct rpal_desc){.kind = 0, .id = HID(1)});
            h_publish(c, 0, &(struct rpal_desc){.kind = 99, .id = HID(2)});
            h_publish(c, 0, &(struct rpal_desc){.kind = RPAL_DESC_REPLY, .id = HID(3)});
            h_publish(c, 0, &(struct rpal_desc){.kind = RPAL_DESC_FAIL, .id = HID(4)});
            h_publish(c, 0, &(struct rpal_desc){.kind = RPAL_DESC_CALL, .id = 0});
            h_publish(c, 1, &(struct rpal_desc){.kind = 0});
            h_publish(c, 1, &(struct rpal_desc){.kind = 77, .id = 1});
            h_publish(c, 1, &(struct rpal_desc){.kind = RPAL_DESC_CALL, .id = HID(5)});
            h_ping(c);
            /* none of them was answered: the ping's reply is all that came */
            r.v[0] = (int64_t)(atomic_load(&c->peer->ctl_out.tail) - t0);
            CHECK(r.v[0] == 1);
            break;
        }
        case H_BAD_REPLY: {
            static const uint64_t ids[] = {0, 1, (7ull << 32) | 1, (1ull << 32) | 70000,
                                           UINT64_MAX};
            for (size_t i = 0; i < 5; i++)
                h_publish(c, 1, &(struct rpal_desc){.kind = RPAL_DESC_REPLY, .id = ids[i],
                                                    .words = {1}});
            h_publish(c, 1, &(struct rpal_desc){.kind = RPAL_DESC_FAIL, .id = 2, .status = -EIO});
            h_ping(c);
            break;
        }
        case H_BAD_RELEASE: {
            /* a real loan first: its release is the control */
            struct rpal_msg req = {.words = {++s_hping, OP_WANT_DATA}}, rep;
            CHECK_OK(rpal_call(c, &req, &rep, 5000));
            CHECK(rep.data && rep.len == 256);
            uint64_t lent = (uint64_t)(uintptr_t)rep.data;
            void *mine;
            CHECK_OK(rpal_alloc(64, &mine));
            const uint64_t bad[] = {0, UINT64_MAX, sb + 4096 + 100, (uint64_t)(uintptr_t)mine,
                                    k.a /* the buffer lent to the good client */};
            for (size_t i = 0; i < 5; i++)
                h_publish(c, 1, &(struct rpal_desc){.kind = RPAL_DESC_RELEASE, .ptr = bad[i],
                                                    .len = 64});
            struct rpal_desc rel = {.kind = RPAL_DESC_RELEASE, .ptr = lent, .len = 256};
            h_publish(c, 1, &rel); /* the control: a real release */
            h_publish(c, 1, &rel); /* the same one again */
            h_ping(c);
            CHECK_OK(rpal_free(mine));
            break;
        }
        case H_REQ_TAIL_FWD:
        case H_REQ_TAIL_NO_ENTRY:
        case H_CTL_TAIL_FWD:
        case H_CONSUMED_LIE: {
            struct rpal_conn *x = test_connect(s_name, 5000);
            struct rpal_ring_prod *p = &x->self->req_out;
            if (k.op == H_REQ_TAIL_NO_ENTRY) {
                for (int64_t i = 0; i < 3; i++)
                    CHECK_OK(rpal_write_ptrs(x, &i, 1));
                int64_t deadline = test_now_ns() + 5000000000ll;
                while (atomic_load(&x->peer->req_in.tail) != 3)
                    CHECK(test_now_ns() < deadline);
                atomic_store(&p->reserve, 5);
                atomic_store(&p->tail, 5); /* two entries said published, never written */
            } else if (k.op == H_REQ_TAIL_FWD) {
                atomic_store(&p->reserve, 1000000);
                atomic_store(&p->tail, 1000000);
            } else if (k.op == H_CTL_TAIL_FWD) {
                atomic_store(&x->self->ctl_out.reserve, 5000);
                atomic_store(&x->self->ctl_out.tail, 5000);
            } else {
                /* claim we consumed 2^31 of the server's replies, then call until
                 * the server's reply ring is full by what it last read of our
                 * consumption (0): its next reply reads the lie */
                atomic_store(&x->self->ctl_in.reserve, 0x80000000u);
                atomic_store(&x->self->ctl_in.tail, 0x80000000u);
                for (uint32_t i = 0; i <= x->peer_entries; i++)
                    h_call(x, HID(i + 1), 0, 0);
            }
            h_wake(x);
            /* the server fails this connection and releases it */
            r.v[0] = h_wait_closed(x, 5000);
            CHECK_OK(rpal_release_service(x));
            h_ping(c); /* and our first connection still works */
            break;
        }
        case H_FLIP:
            h_flip(&k, &r);
            h_ping(c);
            break;
        case H_FORGED_RELEASE: {
            /* Learn our connection's serial from a real loan's header (the
             * server's arena is readable), then have the server echo a
             * payload carrying a forged header into a buffer it lends us,
             * and release the forged block. */
            struct rpal_msg req = {.words = {++s_hping, OP_WANT_DATA}}, rep1, rep2;
            CHECK_OK(rpal_call(c, &req, &rep1, 5000));
            const struct rpal_buf *real = (const struct rpal_buf *)rep1.data - 1;
            void *p;
            CHECK_OK(rpal_alloc(256, &p));
            memset(p, 0, 256);
            struct rpal_buf fake = {.magic = RPAL_MAGIC ^ 0, .cls = 0, .state = BUF_LENT,
                                    .conn_serial = real->conn_serial};
            memcpy((char *)p + 32, &fake, sizeof fake); /* lands 64-aligned in the copy */
            struct rpal_msg echo = {.words = {++s_hping, OP_ECHO}, .data = p, .len = 256};
            CHECK_OK(rpal_call(c, &echo, &rep2, 5000));
            CHECK(((uintptr_t)rep2.data + 32) % 64 == 0);
            h_publish(c, 1, &(struct rpal_desc){.kind = RPAL_DESC_RELEASE,
                                                .ptr = (uint64_t)(uintptr_t)rep2.data + 64,
                                                .len = 32});
            h_ping(c);
            CHECK_OK(rpal_release(c, &rep1));
            CHECK_OK(rpal_release(c, &rep2));
            h_ping(c);
            break;
        }
        case H_NO_CONSUME: {
            /* Calls on a fresh connection, never taking a reply: far more
             * than the server's reply ring and its private backlog hold
             * (NO_CONSUME_RINGS rings' worth), until the server lets the
             * connection go (its closed flag). Every fourth call asks for
             * a loan, so replies with lent buffers are queued too. */
            struct rpal_conn *x = test_connect(s_name, 5000);
            uint64_t cap = (uint64_t)x->peer_entries * NO_CONSUME_RINGS, i = 0;
            int64_t deadline = test_now_ns() + 10000000000ll;
            while (!atomic_load(&x->peer->closed)) {
                CHECK(test_now_ns() < deadline);
                if (i == cap) {
                    sleep_us(200);
                    continue;
                }
                struct rpal_desc d = {.kind = RPAL_DESC_CALL, .id = HID(i + 1),
                                      .words = {(i + 1) & 0xffff,
                                                i % 4 == 3 ? OP_WANT_DATA : OP_PLAIN}};
                if (h_try_publish(x, 0, &d))
                    i++;
                else
                    sched_yield(); /* full: the server takes calls, or has given up */
            }
            r.v[0] = (int64_t)i;                                 /* calls published */
            r.v[1] = (int64_t)atomic_load(&x->peer->ctl_out.tail); /* replies in its ring */
            r.v[2] = (int64_t)atomic_load(&x->self->ctl_in.tail);  /* replies we took */
            CHECK_OK(rpal_release_service(x));
            h_ping(c);
            break;
        }
        case H_WAKE_FLOOD: {
            /* WAKE_FLOOD wake-up bytes on our long-lived connection's socket
             * as fast as we can, ignoring EAGAIN, with no descriptor behind
             * them; then a normal call on the same connection */
            int64_t queued = 0, t0 = test_now_ns();
            for (int i = 0; i < WAKE_FLOOD; i++)
                queued += h_wake(c);
            r.v[0] = queued;
            r.v[1] = (test_now_ns() - t0) / 1000000;
            h_ping(c);
            break;
        }
        case H_RANDOM:
            h_random(c, &k, &r);
            h_ping(c);
            break;
        case H_MISALIGNED: {
            /* payloads at odd addresses and lengths: the protocol asks only
             * that a payload lie inside the sender's arena (protocol.md,
             * "Descriptors"), so each must be served, reading exactly
             * these bytes (the server echoes them) */
            static const struct {
                unsigned off, len;
            } mis[] = {{1, 1}, {3, 100}, {7, 257}, {13, 64}, {33, 31}, {63, 449}};
            enum { NMIS = sizeof mis / sizeof mis[0] };
            unsigned char *buf;
            CHECK_OK(rpal_alloc(512, (void **)&buf));
            fill(buf, 512, 11);
            for (int i = 0; i < NMIS; i++)
                h_call_op(c, HID(i + 1), (uint64_t)(uintptr_t)(buf + mis[i].off), mis[i].len,
                          OP_ECHO);
            /* the last 3 bytes of the arena: in bounds, at no alignment */
            h_call_op(c, HID(NMIS + 1), hb + hs - 3, 3, OP_ECHO);
            h_publish(c, 0, &(struct rpal_desc){.kind = RPAL_DESC_ONEWAY,
                                                .ptr = (uint64_t)(uintptr_t)(buf + 5), .len = 9});
            for (int i = 0; i < NMIS; i++)
                h_expect_echo(c, HID(i + 1), buf + mis[i].off, mis[i].len);
            h_expect_echo(c, HID(NMIS + 1), (const void *)(uintptr_t)(hb + hs - 3), 3);
            h_ping(c);
            CHECK_OK(rpal_free(buf));
            r.v[0] = NMIS + 1;
            break;
        }
        case H_RESIZE: {
            /* Shrink or grow our arena's memfd after the handshake, through
             * librpal's own read-write fd and through a fresh read-write
             * open of it: the seals (protocol.md, "Handshake") refuse
             * every attempt, so the server's read-only mapping of all hs
             * bytes stays backed (no SIGBUS when it reads the last page). */
            int fd = h_arena_fd();
            CHECK(fd >= 0);
            int seals = fcntl(fd, F_GET_SEALS);
            CHECK(seals >= 0 && (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) ==
                                    (F_SEAL_SHRINK | F_SEAL_GROW));
            char p[64];
            snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
            int fd2 = open(p, O_RDWR | O_CLOEXEC);
            CHECK(fd2 >= 0);
            const off_t sizes[] = {0, (off_t)hs / 2, (off_t)hs - 4096, (off_t)hs + 4096,
                                   2 * (off_t)hs};
            for (int j = 0; j < 2; j++) {
                int f = j ? fd2 : fd;
                for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
                    errno = 0;
                    CHECK(ftruncate(f, sizes[i]) < 0 && errno == EPERM);
                }
                errno = 0;
                CHECK(fallocate(f, 0, (off_t)hs, 4096) < 0 && errno == EPERM);
                /* nor can the seals be taken off or changed */
                errno = 0;
                CHECK(fcntl(f, F_ADD_SEALS, F_SEAL_WRITE) < 0 && errno == EPERM);
            }
            close(fd2);
            struct stat st;
            CHECK(fstat(fd, &st) == 0 && (uint64_t)st.st_size == hs);
            /* the server reads our last page and the first past the header */
            h_call_op(c, HID(1), hb + hs - 64, 64, OP_ECHO);
            h_call_op(c, HID(2), hb + RPAL_ARENA_HEADER, 64, OP_ECHO);
            h_expect_echo(c, HID(1), (const void *)(uintptr_t)(hb + hs - 64), 64);
            h_expect_echo(c, HID(2), (const void *)(uintptr_t)(hb + RPAL_ARENA_HEADER), 64);
            h_ping(c);
            r.v[0] = seals;
            break;
        }
        case H_QUIT:
            CHECK_OK(rpal_release_service(s_hc));
            CHECK_OK(rpal_exit());
            child_report(CH_H, &r);
            return 0;
        default:
            CHECK(!"unknown hostile case");
        }
        child_report(CH_H, &r);
    }
}

/* --------------------------------------------------------------- the server */

enum { ROLE_GOOD = 1, ROLE_HOSTILE, ROLE_RAW };
struct sconn {
    struct rpal_conn *c;
    int role;
    struct rpal_peer_info info;
    bool hup, released;
    int dead_rc;  /* what rpal_recv said once the connection was dead */
    int recv_err; /* first error rpal_recv returned while it was live */
    int reply_err;
    uint64_t calls, oneway;
    int64_t reply_max_ns;
};
struct accept_result {
    int rc;
    int64_t ns;
    struct sconn *sc;
};

enum { TAG_SVC = 1, TAG_REP = 2 }; /* epoll data below 4096; larger: a struct sconn */

static struct rpal_service *s_svc;
static int s_ep;
static struct sconn s_conns[MAX_CONNS];
static int s_nconns;
static struct accept_result s_acc[MAX_ACCEPTS];
static int s_nacc;
static struct rep s_rep[NCH];
static unsigned s_rep_seq[NCH];
static bool s_done[NCH];
static struct sconn *s_good, *s_h1;
static uint64_t s_good_calls;
static bool s_stop_good;
static void *s_held;
static volatile unsigned char s_sink;
static const char *s_case = "setup";
static int64_t s_case_t0;
static int s_ncases;

/* The server's log, for "a reason was logged". */
#define LOGN 4096
static pthread_mutex_t s_log_lock = PTHREAD_MUTEX_INITIALIZER;
static char s_log[LOGN][160];
static unsigned s_nlog;

static void logger(int level, const char *msg, void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&s_log_lock);
    snprintf(s_log[s_nlog % LOGN], sizeof s_log[0], "%s", msg);
    s_nlog++;
    pthread_mutex_unlock(&s_log_lock);
    if (getenv("RPAL_LOG"))
        fprintf(stderr, "  server log[%d]: %s\n", level, msg);
}

static unsigned log_mark(void)
{
    pthread_mutex_lock(&s_log_lock);
    unsigned m = s_nlog;
    pthread_mutex_unlock(&s_log_lock);
    return m;
}

static bool logged_since(unsigned mark, const char *kw)
{
    bool found = false;
    pthread_mutex_lock(&s_log_lock);
    if (s_nlog - mark > LOGN) /* overwritten: look at the latest LOGN */
        mark = s_nlog - LOGN;
    for (unsigned i = mark; i < s_nlog && !found; i++)
        found = strstr(s_log[i % LOGN], kw) != NULL;
    pthread_mutex_unlock(&s_log_lock);
    return found;
}

#define CHECK_LOGGED(mark, kw)                                                           \
    do {                                                                                 \
        if (!logged_since((mark), (kw))) {                                               \
            fprintf(stderr, "%s:%d: %s: the server logged nothing containing \"%s\"\n",  \
                    __FILE__, __LINE__, s_case, (kw));                                   \
            exit(TEST_FAIL);                                                             \
        }                                                                                \
    } while (0)

static void on_alarm(int sig)
{
    (void)sig;
    static const char a[] = "test_hostile: watchdog: the server is stuck in case ";
    if (write(2, a, sizeof a - 1) < 0 || write(2, s_case, strlen(s_case)) < 0 ||
        write(2, "\n", 1) < 0)
        _exit(TEST_FAIL);
    _exit(TEST_FAIL);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    CHECK(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void send_cmd(int ch, int op, int sub, uint64_t a, uint64_t b)
{
    struct cmd k = {.op = op, .sub = sub, .a = a, .b = b};
    CHECK(write(s_ch[ch].cmd_wr, &k, sizeof k) == (ssize_t)sizeof k);
}

static uint64_t rejected(const struct sconn *sc)
{
    struct rpal_conn_stats st;
    CHECK_OK(rpal_conn_stats(sc->c, &st));
    return st.rejected;
}

static uint64_t lent_bytes(const struct sconn *sc)
{
    struct rpal_conn_stats st;
    CHECK_OK(rpal_conn_stats(sc->c, &st));
    return st.lent_bytes;
}

static void accept_one(void)
{
    struct rpal_conn *c;
    int64_t t0 = test_now_ns();
    int rc = rpal_accept(s_svc, &c);
    int64_t ns = test_now_ns() - t0;
    if (rc == -EAGAIN)
        return;
    CHECK(s_nacc < MAX_ACCEPTS);
    struct accept_result *a = &s_acc[s_nacc++];
    a->rc = rc;
    a->ns = ns;
    a->sc = NULL;
    if (rc < 0)
        return;
    CHECK(s_nconns < MAX_CONNS);
    struct sconn *sc = &s_conns[s_nconns++];
    memset(sc, 0, sizeof *sc);
    sc->c = c;
    CHECK_OK(rpal_conn_info(c, &sc->info));
    if (sc->info.pid == s_pid[CH_G])
        sc->role = ROLE_GOOD;
    else if (sc->info.pid == s_pid[CH_H])
        sc->role = ROLE_HOSTILE;
    else if (sc->info.pid == s_pid[CH_R])
        sc->role = ROLE_RAW;
    else
        CHECK(!"a connection from an unknown process");
    struct epoll_event ev = {.events = 0, .data.ptr = sc};
    CHECK_OK(rpal_epoll_ctl(s_ep, EPOLL_CTL_ADD, rpal_conn_fd(c), &ev));
    a->sc = sc;
}

static void read_report(int ch)
{
    ssize_t n = read(s_ch[ch].rep_rd, &s_rep[ch], sizeof s_rep[ch]);
    if (n == 0) { /* the child went away */
        struct epoll_event ev = {0};
        rpal_epoll_ctl(s_ep, EPOLL_CTL_DEL, s_ch[ch].rep_rd, &ev);
        if (!s_done[ch]) {
            fprintf(stderr, "%s: the %s exited (status %d)\n", s_case, s_chname[ch],
                    test_wait(s_pid[ch], 1000));
            exit(TEST_FAIL);
        }
        return;
    }
    CHECK(n == (ssize_t)sizeof s_rep[ch]);
    s_rep_seq[ch]++;
}

/* Every payload the server is handed lies in the sender's arena. */
static void check_payload(const struct sconn *sc, const struct rpal_msg *m)
{
    if (!m->data) {
        CHECK(m->len == 0);
        return;
    }
    uint64_t p = (uint64_t)(uintptr_t)m->data, base = sc->info.arena_base,
             end = base + sc->info.arena_size;
    if (!(p >= base && p < end && m->len <= end - p && m->len > 0)) {
        fprintf(stderr, "%s: the server was handed data %#llx len %llu outside [%#llx, %#llx)\n",
                s_case, (unsigned long long)p, (unsigned long long)m->len,
                (unsigned long long)base, (unsigned long long)end);
        exit(TEST_FAIL);
    }
    const volatile unsigned char *d = m->data;
    s_sink += d[0] + d[m->len - 1];
}

static void *alloc_filled(size_t n, unsigned seed)
{
    void *p;
    CHECK_OK(rpal_alloc(n, &p));
    fill(p, n, seed);
    return p;
}

static void answer(struct sconn *sc, const struct rpal_msg *m)
{
    struct rpal_msg r = {.words = {m->words[0] * 2 + 1}};
    if (sc->role == ROLE_GOOD) {
        CHECK(m->words[1] == GOOD_TAG);
        r.words[1] = s_stop_good ? REPLY_STOP : 0;
        if (m->words[2] == OP_HELD) {
            r.data = s_held = alloc_filled(HELD_LEN, HELD_SEED);
            r.len = HELD_LEN;
        } else if ((m->words[0] & 15) == 7) { /* now and then a loan */
            r.data = alloc_filled(128, (unsigned)m->words[0]);
            r.len = 128;
        }
        CHECK_OK(rpal_reply(sc->c, m->id, &r));
        s_good_calls++;
        return;
    }
    if (m->words[1] == OP_WANT_DATA) {
        r.data = alloc_filled(256, 9);
        r.len = 256;
    } else if (m->words[1] == OP_ECHO && m->len) {
        void *p;
        CHECK_OK(rpal_alloc(m->len, &p));
        memcpy(p, m->data, m->len);
        r.data = p;
        r.len = m->len;
    }
    int64_t t0 = test_now_ns();
    int rc = rpal_reply(sc->c, m->id, &r);
    int64_t ns = test_now_ns() - t0;
    sc->reply_max_ns = ns > sc->reply_max_ns ? ns : sc->reply_max_ns;
    if (rc < 0 && !sc->reply_err)
        sc->reply_err = rc;
}

static void serve_conn(struct sconn *sc)
{
    for (int k = 0; k < 64; k++) { /* then let the others have a turn */
        struct rpal_msg m;
        int rc = rpal_recv(sc->c, &m);
        if (rc == -EAGAIN)
            return;
        if (rc < 0) {
            if (sc->role == ROLE_GOOD && !s_stop_good) {
                fprintf(stderr, "%s: rpal_recv on the good connection: %s\n", s_case,
                        strerror(-rc));
                exit(TEST_FAIL);
            }
            if (!sc->recv_err)
                sc->recv_err = rc;
            return;
        }
        check_payload(sc, &m);
        if (m.id == 0) {
            sc->oneway++;
            continue;
        }
        sc->calls++;
        answer(sc, &m);
    }
}

static void on_hup(struct sconn *sc)
{
    if (sc->hup)
        return;
    if (sc->role == ROLE_GOOD && !s_stop_good) {
        fprintf(stderr, "%s: the good connection hung up\n", s_case);
        exit(TEST_FAIL);
    }
    sc->hup = true;
    struct rpal_msg m;
    sc->dead_rc = rpal_recv(sc->c, &m);
    struct epoll_event ev = {0};
    CHECK_OK(rpal_epoll_ctl(s_ep, EPOLL_CTL_DEL, rpal_conn_fd(sc->c), &ev));
}

static int64_t s_turn_max_ns; /* the longest serve_once() since the case reset it */

static void serve_turn(int timeout_ms)
{
    struct epoll_event ev[16];
    int n = rpal_epoll_wait(s_ep, ev, 16, timeout_ms);
    CHECK(n >= 0);
    for (int i = 0; i < n; i++) {
        uint64_t d = ev[i].data.u64;
        if (d == TAG_SVC) {
            accept_one(); /* one per turn: the others are served in between */
        } else if (d >= TAG_REP && d < TAG_REP + NCH) {
            read_report((int)(d - TAG_REP));
        } else {
            struct sconn *sc = ev[i].data.ptr;
            if (ev[i].events & EPOLLRPALIN)
                serve_conn(sc);
            if (ev[i].events & EPOLLRPALHUP)
                on_hup(sc);
        }
    }
}

static void serve_once(int timeout_ms)
{
    int64_t t0 = test_now_ns();
    serve_turn(timeout_ms);
    int64_t ns = test_now_ns() - t0;
    s_turn_max_ns = ns > s_turn_max_ns ? ns : s_turn_max_ns;
}

#define SERVE_UNTIL(cond, ms, what)                                                      \
    do {                                                                                 \
        int64_t dl_ = test_now_ns() + (int64_t)(ms) * 1000000;                           \
        while (!(cond)) {                                                                \
            if (test_now_ns() > dl_) {                                                   \
                fprintf(stderr, "%s:%d: %s: timed out waiting for %s\n", __FILE__,       \
                        __LINE__, s_case, (what));                                       \
                exit(TEST_FAIL);                                                         \
            }                                                                            \
            serve_once(5);                                                               \
        }                                                                                \
    } while (0)

static void serve_for(int ms)
{
    int64_t end = test_now_ns() + (int64_t)ms * 1000000;
    while (test_now_ns() < end)
        serve_once(5);
}

static void release_conn(struct sconn *sc)
{
    if (!sc->hup) {
        struct epoll_event ev = {0};
        CHECK_OK(rpal_epoll_ctl(s_ep, EPOLL_CTL_DEL, rpal_conn_fd(sc->c), &ev));
    }
    CHECK_OK(rpal_release_service(sc->c));
    sc->released = true;
    sc->hup = true;
}

static unsigned s_case_log;

/* Starts case name: its log mark, its clock, its watchdog. */
static void case_begin(const char *name)
{
    s_case = name;
    s_case_log = log_mark();
    s_case_t0 = test_now_ns();
    s_ncases++;
    alarm(30); /* a case that hangs the server fails, it does not hang the test */
}

static int s_nskipped;
static char s_skip_why[160]; /* the last skipped case's reason */

/* Ends the current case as skipped (why: what it needs). */
static void case_skip(const char *why)
{
    printf("skip %-36s (%s)\n", s_case, why);
    fflush(stdout);
    snprintf(s_skip_why, sizeof s_skip_why, "%s: %s", s_case, why);
    s_nskipped++;
}

/* After every case: the good client is still served, the hostile client's
 * first connection still lives, and the good connection never saw a
 * rejected descriptor. */
static void case_end(void)
{
    uint64_t want = s_good_calls + 10;
    SERVE_UNTIL(s_good_calls >= want, 5000, "the good client's calls");
    CHECK(!s_good->hup && s_good->recv_err == 0);
    CHECK(rejected(s_good) == 0);
    if (s_h1)
        CHECK(!s_h1->hup && s_h1->reply_err == 0);
    printf("ok   %-36s %5.0f ms\n", s_case, (double)(test_now_ns() - s_case_t0) / 1e6);
    fflush(stdout);
}

/* ------------------------------------------------------- handshake cases */

/* Has the raw client run (op, sub) and waits for its report and for the
 * one rpal_accept() it caused. */
static const struct rep *raw_run(int op, int sub, uint64_t a)
{
    unsigned seq = s_rep_seq[CH_R];
    int nacc = s_nacc;
    send_cmd(CH_R, op, sub, a, 0);
    SERVE_UNTIL(s_rep_seq[CH_R] != seq && s_nacc > nacc, 5000, "the raw handshake");
    CHECK(s_nacc == nacc + 1);
    return &s_rep[CH_R];
}

/* rpal_accept() must fail with want, the raw client must get a REFUSE
 * carrying want, a reason with kw must be logged, no fd may leak. */
static void raw_expect(int op, int sub, uint64_t a, int want, const char *kw)
{
    unsigned mark = log_mark();
    int fds = count_fds();
    const struct rep *r = raw_run(op, sub, a);
    const struct accept_result *ac = &s_acc[s_nacc - 1];
    if (ac->rc != want) {
        fprintf(stderr, "%s (sub %d): rpal_accept returned %d (%s), want %d (%s)\n", s_case, sub,
                ac->rc, strerror(-ac->rc), want, strerror(-want));
        exit(TEST_FAIL);
    }
    if (r->v[0] != RPAL_HS_REFUSE || r->v[1] != want) {
        fprintf(stderr, "%s (sub %d): the raw client got type %lld status %lld, want REFUSE %d\n",
                s_case, sub, (long long)r->v[0], (long long)r->v[1], want);
        exit(TEST_FAIL);
    }
    CHECK_LOGGED(mark, kw);
    CHECK(count_fds() == fds); /* every fd the hello carried was closed */
}

/* The raw client's well-formed hello is welcomed: every other raw case
 * changes one thing of this one. */
static void case_hs_control(void)
{
    int fds = count_fds();
    const struct rep *r = raw_run(R_CONTROL, 0, 0);
    const struct accept_result *ac = &s_acc[s_nacc - 1];
    CHECK_RC(ac->rc, 0);
    CHECK(ac->sc && ac->sc->role == ROLE_RAW);
    CHECK(r->v[0] == RPAL_HS_WELCOME && r->v[2] == 1); /* the server's arena, only */
    /* the raw client hangs up at once: EPOLLRPALHUP, then release */
    SERVE_UNTIL(ac->sc->hup, 2000, "the raw client's hang-up");
    CHECK_RC(ac->sc->dead_rc, -ECONNRESET);
    release_conn(ac->sc);
    CHECK(count_fds() == fds);
    case_end();
}

static void case_hs_wrong_protocol(void)
{
    raw_expect(R_PROTOCOL, 0, 0, -EPROTO, "protocol");
    case_end();
}

static void case_hs_wrong_magic(void)
{
    raw_expect(R_MAGIC, 0, 0, -EPROTO, "malformed handshake");
    case_end();
}

static void case_hs_truncated(void)
{
    raw_expect(R_TRUNCATED, 0, 0, -EPROTO, "malformed handshake message (100 bytes)");
    case_end();
}

static void case_hs_oversized(void)
{
    raw_expect(R_OVERSIZED, 0, 0, -EPROTO, "malformed handshake");
    raw_expect(R_OVERSIZED, 1, 0, -EPROTO, "asked for service");
    case_end();
}

static void case_hs_unterminated_name(void)
{
    raw_expect(R_UNTERMINATED, 0, 0, -EPROTO, "unterminated name");
    case_end();
}

static void case_hs_wrong_type(void)
{
    for (int sub = 0; sub < 3; sub++)
        raw_expect(R_TYPE, sub, 0, -EPROTO, "message type");
    case_end();
}

static void case_hs_fd_count(void)
{
    raw_expect(R_FDS, 0, 0, -EPROTO, "carried 0 fds");
    raw_expect(R_FDS, 3, 0, -EPROTO, "carried 3 fds");
    case_end();
}

static void case_hs_unsealed(void)
{
    raw_expect(R_UNSEALED, 0, 0, -EBADFD, "unsealed");
    case_end();
}

static void case_hs_size_mismatch(void)
{
    raw_expect(R_SIZE, 0, 0, -EBADFD, "announced");
    raw_expect(R_SIZE, 1, 0, -EBADFD, "announced");
    case_end();
}

/* The old protocol's hello: the arena and a doorbell eventfd. */
static void case_hs_two_fds(void)
{
    raw_expect(R_FDS, 2, 0, -EPROTO, "carried 2 fds, expected 1");
    case_end();
}

static void case_hs_conn_off(void)
{
    for (int sub = 0; sub < 5; sub++)
        raw_expect(R_CONN_OFF, sub, 0, -EPROTO, "connection block outside its arena");
    case_end();
}

static void case_hs_uninitialised_block(void)
{
    /* passes every check of the hello, fails after the arena is mapped */
    raw_expect(R_UNINIT, 0, 0, -EPROTO, "not initialised");
    case_end();
}

static void case_hs_slot_range(void)
{
    raw_expect(R_SLOT, 0, 0, -EPROTO, "a bad slot");
    raw_expect(R_SLOT, 1, 0, -EPROTO, "a bad slot");
    raw_expect(R_SLOT, 2, (uint64_t)rpal_slot_id(), -EPROTO, "a bad slot"); /* the server's */
    case_end();
}

static void case_hs_window(void)
{
    for (int sub = 0; sub < 3; sub++)
        raw_expect(R_WINDOW, sub, 0, -EPROTO, "a different slot window");
    case_end();
}

/* A hello that announces the slot of another live process (the good
 * client) would have its arena mapped over that process's, breaking the
 * good connection; one that announces a slot nobody holds squats it. */
static void case_hs_slot_not_held(void)
{
    raw_expect(R_SLOT_NOT_HELD, 0, (uint64_t)s_good->info.slot, -EPROTO, "which pid");
    raw_expect(R_SLOT_NOT_HELD, 1, 0, -EPROTO, "which no process holds");
    case_end();
}

static void case_hs_wrong_uid(void)
{
    if (geteuid() != 0) {
        case_skip("needs root to connect as another uid");
        return;
    }
    raw_expect(R_UID, 0, 0, -EACCES, "uid");
    case_end();
}

/* FLOOD_SILENT connections that send nothing and stay open: each
 * rpal_accept() gives up after its 500 ms receive timeout (-ETIMEDOUT);
 * then FLOOD_CONNECTS connections that send nothing and close: each is
 * dropped at once (-ECONNREFUSED). rpal.h documents neither code for
 * rpal_accept(); these are what the library returns. The good client is
 * served throughout (one accept per loop turn), only slowed by the
 * timeouts. */
static void case_hs_flood(void)
{
    unsigned mark = log_mark();
    int fds = count_fds();
    int nacc = s_nacc;
    unsigned seq = s_rep_seq[CH_R];
    int64_t t0 = test_now_ns();
    send_cmd(CH_R, R_FLOOD_SILENT, 0, 0, 0);
    SERVE_UNTIL(s_rep_seq[CH_R] != seq, 5000, "the silent connects");
    /* the silent clients wait in the service's set, up to RPAL_PENDING_MAX of
     * them (the rest are refused at once): nobody waits for them */
    SERVE_UNTIL(s_nacc >= nacc + FLOOD_OVER, 2000, "the refusals past the pending limit");
    uint64_t good0 = s_good_calls;
    SERVE_UNTIL(s_good_calls >= good0 + 20, 2000, "the good client's calls during the flood");
    CHECK(s_nacc == nacc + FLOOD_OVER); /* while their 500 ms run */
    CHECK_LOGGED(mark, "in the middle of their handshake");
    SERVE_UNTIL(s_nacc >= nacc + FLOOD_SILENT, 5000, "the silent connections' timeouts");
    int64_t all_out = test_now_ns() - t0;
    for (int i = nacc; i < s_nacc; i++) {
        int want = i < nacc + FLOOD_OVER ? -EBUSY : -ETIMEDOUT;
        if (s_acc[i].rc != want || s_acc[i].ns > 50000000) {
            fprintf(stderr, "%s: silent connection %d: rpal_accept returned %d after %lld ms\n",
                    s_case, i - nacc, s_acc[i].rc, (long long)(s_acc[i].ns / 1000000));
            exit(TEST_FAIL);
        }
    }
    /* all timed out together, 500 ms after they connected, not one after another */
    if (all_out < 400000000 || all_out > 2500000000) {
        fprintf(stderr, "%s: %d silent connections timed out %lld ms after the flood began\n",
                s_case, FLOOD_SILENT, (long long)(all_out / 1000000));
        exit(TEST_FAIL);
    }
    CHECK_LOGGED(mark, "sent no hello");
    seq = s_rep_seq[CH_R];
    nacc = s_nacc;
    good0 = s_good_calls;
    send_cmd(CH_R, R_FLOOD_RELEASE, 0, 0, 0);
    SERVE_UNTIL(s_rep_seq[CH_R] != seq && s_nacc >= nacc + FLOOD_CONNECTS, 10000,
                "the connect-and-close flood");
    CHECK(s_nacc == nacc + FLOOD_CONNECTS);
    int64_t worst = 0;
    for (int i = nacc; i < s_nacc; i++) {
        if (s_acc[i].rc != -ECONNREFUSED) {
            fprintf(stderr, "%s: closed connection %d: rpal_accept returned %d (%s)\n", s_case,
                    i - nacc, s_acc[i].rc, strerror(-s_acc[i].rc));
            exit(TEST_FAIL);
        }
        worst = s_acc[i].ns > worst ? s_acc[i].ns : worst;
    }
    CHECK(worst < 400000000); /* dropped at once, not after the 500 ms timeout */
    CHECK(s_good_calls > good0);
    CHECK_LOGGED(mark, "closed");
    CHECK(count_fds() == fds);
    printf("     flood: %d silent, all dropped %lld ms after the flood began; %d "
           "connect-and-close in %lld ms, slowest accept %.1f ms\n",
           FLOOD_SILENT, (long long)(all_out / 1000000), FLOOD_CONNECTS,
           (long long)s_rep[CH_R].v[0], (double)worst / 1e6);
    case_end();
}

/* ------------------------------------------------------------ data cases */

static const struct rep *hostile_run(int op, uint64_t a, uint64_t b)
{
    unsigned seq = s_rep_seq[CH_H];
    send_cmd(CH_H, op, 0, a, b);
    SERVE_UNTIL(s_rep_seq[CH_H] != seq, 10000, "the hostile client's report");
    CHECK(s_rep[CH_H].rc == 0);
    return &s_rep[CH_H];
}

/* Runs hostile case op, then waits until the server rejected `more`
 * descriptors of the long-lived hostile connection, exactly. */
static void hostile_expect(int op, uint64_t a, uint64_t b, uint64_t more, const char *kw)
{
    uint64_t rej = rejected(s_h1);
    hostile_run(op, a, b);
    SERVE_UNTIL(rejected(s_h1) >= rej + more, 2000, "the rejections");
    serve_for(20);
    if (rejected(s_h1) != rej + more) {
        fprintf(stderr, "%s: %llu descriptors rejected, want %llu\n", s_case,
                (unsigned long long)(rejected(s_h1) - rej), (unsigned long long)more);
        exit(TEST_FAIL);
    }
    CHECK_LOGGED(s_case_log, kw);
}

static void case_data_ptr_outside(void)
{
    uint64_t calls = s_h1->calls;
    /* 4 calls answered FAIL -EPROTO (checked by the hostile client), one
     * one-way message dropped, one valid call answered */
    hostile_expect(H_BAD_PTR, s_h1->info.arena_base, s_h1->info.arena_size, 5,
                   "outside its arena");
    CHECK(s_h1->calls == calls + 2); /* the valid one and the ping */
    case_end();
}

static void case_data_len_past_end(void)
{
    uint64_t calls = s_h1->calls;
    hostile_expect(H_BAD_LEN, s_h1->info.arena_base, s_h1->info.arena_size, 4,
                   "outside its arena");
    CHECK(s_h1->calls == calls + 3); /* two at the edge, and the ping */
    case_end();
}

static void case_data_foreign_ptr(void)
{
    uint64_t calls = s_h1->calls;
    hostile_expect(H_FOREIGN_PTR, s_good->info.arena_base, 0, 3, "outside its arena");
    CHECK(s_h1->calls == calls + 2);
    case_end();
}

static void case_data_unknown_kind(void)
{
    hostile_expect(H_BAD_KIND, 0, 0, 8, "unknown request descriptor");
    CHECK_LOGGED(s_case_log, "unknown control descriptor");
    case_end();
}

static void case_data_reply_unknown_id(void)
{
    hostile_expect(H_BAD_REPLY, 0, 0, 6, "a reply to no call of ours");
    CHECK_LOGGED(s_case_log, "a second reply"); /* id 1: slot 0, generation 0, idle */
    case_end();
}

static void case_data_release_not_lent(void)
{
    const struct rpal_buf *held = (const struct rpal_buf *)s_held - 1;
    CHECK(held->state == BUF_LENT && held->conn_serial == s_good->c->serial);
    /* 5 bad pointers (one of them the buffer lent to the good client), one
     * real release (the control), the same one again */
    hostile_expect(H_BAD_RELEASE, (uint64_t)(uintptr_t)s_held, 0, 6, "which it does not hold");
    CHECK(lent_bytes(s_h1) == 0); /* the real release was taken */
    CHECK(held->state == BUF_LENT && held->conn_serial == s_good->c->serial);
    case_end();
}

/* The hostile client opens a second connection and corrupts it (op); the
 * server must fail that one connection with -EPROTO and log kw. */
static struct sconn *hostile_kill(int op, const char *kw)
{
    int nconns = s_nconns;
    unsigned seq = s_rep_seq[CH_H];
    send_cmd(CH_H, op, 0, 0, 0);
    SERVE_UNTIL(s_nconns > nconns && s_conns[nconns].hup, 5000, "the corrupted connection's end");
    struct sconn *sc = &s_conns[nconns];
    CHECK(sc->role == ROLE_HOSTILE && sc != s_h1);
    CHECK_RC(sc->dead_rc, -EPROTO);
    CHECK_LOGGED(s_case_log, kw);
    CHECK_LOGGED(s_case_log, "Protocol error"); /* "connection ... ended: ..." */
    release_conn(sc);
    SERVE_UNTIL(s_rep_seq[CH_H] != seq, 5000, "the hostile client's report");
    CHECK(s_rep[CH_H].rc == 0 && s_rep[CH_H].v[0] == 1); /* it saw its connection closed */
    return sc;
}

static void case_data_req_tail_forward(void)
{
    struct sconn *sc = hostile_kill(H_REQ_TAIL_FWD, "moved its req ring tail");
    CHECK_RC(sc->recv_err, -EPROTO); /* what rpal_recv said */
    case_end();
}

static void case_data_req_tail_without_entry(void)
{
    struct sconn *sc = hostile_kill(H_REQ_TAIL_NO_ENTRY, "without entry");
    CHECK_RC(sc->recv_err, -EPROTO);
    CHECK(sc->oneway == 3); /* the messages before the lie were delivered */
    case_end();
}

static void case_data_ctl_tail_forward(void)
{
    hostile_kill(H_CTL_TAIL_FWD, "moved its ctl ring tail");
    case_end();
}

static void case_data_consumed_lie(void)
{
    struct sconn *sc = hostile_kill(H_CONSUMED_LIE, "claims to have consumed");
    /* the replies that fit the ring went out; the one after them found the lie */
    CHECK(sc->calls == (uint64_t)s_h1->c->self->ring_entries + 1); /* every connection's ring has the server's size */
    /* rpal.h lists -ECONNRESET for a peer that is gone; for a peer that
     * corrupted the ring rpal_reply answers -EPROTO */
    CHECK_RC(sc->reply_err, -EPROTO);
    case_end();
}

static void case_data_flip(void)
{
    int nconns = s_nconns;
    const struct rep *r = hostile_run(H_FLIP, s_h1->info.arena_base, s_h1->info.arena_size);
    CHECK(s_nconns == nconns + 1);
    struct sconn *sc = &s_conns[nconns];
    int64_t published = r->v[0], replies = r->v[1], fails = r->v[2];
    SERVE_UNTIL(sc->hup, 3000, "the flipping connection's end");
    printf("     flip: %lld calls, %lld accepted, %lld rejected\n", (long long)published,
           (long long)replies, (long long)fails);
    /* every call answered once; the server accepted exactly the replies
     * (their payloads checked in check_payload) and rejected the rest */
    CHECK(replies + fails == published);
    CHECK((int64_t)sc->calls == replies);
    CHECK((int64_t)rejected(sc) == fails);
    CHECK(replies > 0 && fails > 0); /* the flips were seen both ways */
    CHECK_LOGGED(s_case_log, "outside its arena");
    release_conn(sc);
    case_end();
}

/* The server's arena holds whatever it copies from peers, bytes shaped
 * like a block header included. A peer that has a forged header echoed into
 * a buffer the server lends it (reading its connection serial from a real
 * loan's header: the whole server arena is readable) releases the forged
 * block: the release must be rejected (arena_buf_of() believes a header
 * only where its private map says a block starts), not followed. */
static void case_data_forged_release(void)
{
    hostile_expect(H_FORGED_RELEASE, 0, 0, 1, "which it does not hold");
    CHECK(lent_bytes(s_h1) == 0);
    case_end();
}

/* A peer that makes calls and never takes a reply: replies past the
 * server's reply ring queue in a private backlog, and when that is full the
 * connection fails with -ENOBUFS (rpal_reply says so, EPOLLRPALHUP follows,
 * a reason is logged). rpal_reply never waits meanwhile: the server keeps
 * serving the good client. */
static void case_data_no_consume(void)
{
    int nconns = s_nconns;
    unsigned seq = s_rep_seq[CH_H];
    uint64_t good0 = s_good_calls;
    s_turn_max_ns = 0;
    send_cmd(CH_H, H_NO_CONSUME, 0, 0, 0);
    SERVE_UNTIL(s_nconns > nconns && s_conns[nconns].hup, 10000, "the connection's failure");
    struct sconn *sc = &s_conns[nconns];
    CHECK(sc->role == ROLE_HOSTILE && sc != s_h1);
    CHECK_RC(sc->reply_err, -ENOBUFS);
    CHECK_RC(sc->dead_rc, -ENOBUFS);
    CHECK_LOGGED(s_case_log, "takes none of our replies");
    /* never waited for the peer: each rpal_reply, and each turn of the
     * loop (which serves the good client too), came back at once; the
     * good client's calls after this are checked by case_end() */
    CHECK(sc->reply_max_ns < 1000000000);
    CHECK(s_turn_max_ns < 1000000000);
    uint64_t good_during = s_good_calls - good0;
    release_conn(sc);
    SERVE_UNTIL(s_rep_seq[CH_H] != seq, 10000, "the hostile client's report");
    const struct rep *r = &s_rep[CH_H];
    CHECK(r->rc == 0);
    uint32_t ring = (uint32_t)s_h1->c->self->ring_entries; /* the server's reply ring */
    /* the ring filled and was never taken; the rest were queued, then the
     * server gave up before the peer ran out of calls */
    CHECK(r->v[1] == (int64_t)ring && r->v[2] == 0);
    CHECK(sc->calls > ring && sc->calls <= (uint64_t)r->v[0]);
    printf("     no-consume: %lld calls made, %llu answered before the connection failed, "
           "slowest rpal_reply %.2f ms, slowest turn %.1f ms, %llu good calls meanwhile\n",
           (long long)r->v[0], (unsigned long long)sc->calls, (double)sc->reply_max_ns / 1e6,
           (double)s_turn_max_ns / 1e6, (unsigned long long)good_during);
    case_end();
}

/* A peer that floods its connection socket with wake-up bytes: the server
 * takes a bounded number per wake-up, treats them as no protocol violation
 * (the connection and its calls go on) and keeps serving everybody. */
static void case_data_wake_flood(void)
{
    unsigned seq = s_rep_seq[CH_H];
    uint64_t good0 = s_good_calls, calls0 = s_h1->calls, rej = rejected(s_h1);
    s_turn_max_ns = 0;
    send_cmd(CH_H, H_WAKE_FLOOD, 0, 0, 0);
    SERVE_UNTIL(s_rep_seq[CH_H] != seq, 10000, "the hostile client's report");
    int64_t worst = s_turn_max_ns;
    const struct rep *r = &s_rep[CH_H];
    CHECK(r->rc == 0);
    CHECK(s_good_calls > good0);       /* served throughout */
    CHECK(s_h1->calls == calls0 + 1);  /* the ping after the flood */
    CHECK(rejected(s_h1) == rej && !s_h1->hup && s_h1->recv_err == 0);
    CHECK(worst < 1000000000);         /* each turn of the loop came back */
    good0 = s_good_calls;
    serve_for(100); /* the bytes still queued are taken without harm */
    CHECK(s_good_calls > good0 && !s_h1->hup);
    printf("     wake flood: %d sends, %lld queued, in %lld ms; slowest server turn %.1f ms\n",
           WAKE_FLOOD, (long long)r->v[0], (long long)r->v[1], (double)worst / 1e6);
    case_end();
}

/* RANDOM_DESCS descriptors of random bytes on the long-lived hostile
 * connection (h_random: what is random and what the client predicts). The
 * server rejects exactly the ones the rules reject, serves the others, and
 * logs a reason for each rejection; the connection lives on. The seed is
 * printed; RPAL_HOSTILE_SEED=n repeats a run. */
static void case_data_random(void)
{
    const char *env = getenv("RPAL_HOSTILE_SEED");
    uint32_t seed = env && *env ? (uint32_t)strtoul(env, NULL, 0)
                                : (uint32_t)(test_now_ns() ^ ((uint64_t)getpid() << 16));
    printf("     random: seed %u (RPAL_HOSTILE_SEED=%u repeats it)\n", seed, seed);
    fflush(stdout);
    uint64_t rej = rejected(s_h1), calls = s_h1->calls, oneway = s_h1->oneway;
    unsigned seq = s_rep_seq[CH_H];
    send_cmd(CH_H, H_RANDOM, (int32_t)seed, s_h1->info.arena_base, s_h1->info.arena_size);
    SERVE_UNTIL(s_rep_seq[CH_H] != seq, 20000, "the hostile client's report");
    const struct rep *r = &s_rep[CH_H];
    CHECK(r->rc == 0);
    int64_t want_rej = r->v[2];
    SERVE_UNTIL(rejected(s_h1) >= rej + (uint64_t)want_rej, 2000, "the rejections");
    serve_for(20);
    if (rejected(s_h1) - rej != (uint64_t)want_rej ||
        s_h1->calls - calls != (uint64_t)r->v[0] + 1 ||
        s_h1->oneway - oneway != (uint64_t)r->v[1]) {
        fprintf(stderr,
                "%s (seed %u): rejected %llu, served %llu calls and %llu one-way messages; the "
                "client predicted %lld, %lld (and the ping), %lld\n",
                s_case, seed, (unsigned long long)(rejected(s_h1) - rej),
                (unsigned long long)(s_h1->calls - calls),
                (unsigned long long)(s_h1->oneway - oneway), (long long)want_rej,
                (long long)r->v[0], (long long)r->v[1]);
        exit(TEST_FAIL);
    }
    CHECK(!s_h1->hup && s_h1->recv_err == 0 && s_h1->reply_err == 0);
    CHECK(lent_bytes(s_h1) == 0);
    CHECK_LOGGED(s_case_log, "an unknown request descriptor");
    CHECK_LOGGED(s_case_log, "a request pointing outside its arena");
    CHECK_LOGGED(s_case_log, "an unknown control descriptor");
    CHECK_LOGGED(s_case_log, "a reply to no call of ours");
    CHECK_LOGGED(s_case_log, "which it does not hold");
    printf("     random: %lld request and %lld control descriptors: %lld calls served, %lld "
           "one-way delivered, %lld rejected\n",
           (long long)r->v[3], (long long)r->v[4], (long long)r->v[0], (long long)r->v[1],
           (long long)want_rej);
    case_end();
}

/* Payloads at odd addresses with odd lengths, inside the sender's arena.
 * The engine requires no alignment of a payload (protocol.md,
 * "Descriptors": only that it lie in the sender's arena past its header;
 * check_payload() here and the echo the client compares prove the server
 * read exactly those bytes), so nothing is rejected and nothing is logged:
 * every call is served and the one-way message delivered. */
static void case_data_misaligned(void)
{
    uint64_t rej = rejected(s_h1), calls = s_h1->calls, oneway = s_h1->oneway;
    const struct rep *r =
        hostile_run(H_MISALIGNED, s_h1->info.arena_base, s_h1->info.arena_size);
    SERVE_UNTIL(lent_bytes(s_h1) == 0, 2000, "the echoes' releases");
    CHECK(s_h1->calls == calls + (uint64_t)r->v[0] + 1); /* and the ping */
    CHECK(s_h1->oneway == oneway + 1);
    CHECK(rejected(s_h1) == rej);
    CHECK(!logged_since(s_case_log, "outside its arena"));
    case_end();
}

/* The hostile client tries to shrink and grow its arena's memfd after the
 * handshake (the server maps all of it read-only). The seals the
 * handshake insisted on refuse it (EPERM, checked by the client); the
 * server's mapping stays backed: it serves calls whose payloads are the
 * arena's last bytes and reads the last byte itself. The server is never
 * told of the attempt, so it has no reason to log. */
static void case_data_memfd_resize(void)
{
    uint64_t rej = rejected(s_h1), calls = s_h1->calls;
    uint64_t hb = s_h1->info.arena_base, hs = s_h1->info.arena_size;
    hostile_run(H_RESIZE, hb, hs);
    SERVE_UNTIL(lent_bytes(s_h1) == 0, 2000, "the echoes' releases");
    CHECK(s_h1->calls == calls + 3);
    CHECK(rejected(s_h1) == rej);
    s_sink += *(const volatile unsigned char *)(uintptr_t)(hb + hs - 1);
    case_end();
}

/* ------------------------------------------------------------------ main */

static const struct {
    const char *name;
    void (*run)(void);
} s_cases[] = {
    {"hs_control_valid_hello", case_hs_control},
    {"hs_wrong_protocol_version", case_hs_wrong_protocol},
    {"hs_wrong_magic", case_hs_wrong_magic},
    {"hs_truncated_message", case_hs_truncated},
    {"hs_oversized_message_and_name", case_hs_oversized},
    {"hs_unterminated_name", case_hs_unterminated_name},
    {"hs_wrong_message_type", case_hs_wrong_type},
    {"hs_zero_or_three_fds", case_hs_fd_count},
    {"hs_unsealed_memfd", case_hs_unsealed},
    {"hs_arena_size_mismatch", case_hs_size_mismatch},
    {"hs_two_fds_old_doorbell", case_hs_two_fds},
    {"hs_conn_off_outside_arena", case_hs_conn_off},
    {"hs_uninitialised_conn_block", case_hs_uninitialised_block},
    {"hs_slot_out_of_range", case_hs_slot_range},
    {"hs_different_window", case_hs_window},
    {"hs_slot_not_held_by_peer", case_hs_slot_not_held},
    {"hs_peer_of_another_uid", case_hs_wrong_uid},
    {"hs_flood_of_silent_connects", case_hs_flood},
    {"data_call_ptr_outside_arena", case_data_ptr_outside},
    {"data_call_len_past_end", case_data_len_past_end},
    {"data_call_ptr_in_other_arenas", case_data_foreign_ptr},
    {"data_unknown_descriptor_kind", case_data_unknown_kind},
    {"data_reply_never_issued", case_data_reply_unknown_id},
    {"data_release_never_lent", case_data_release_not_lent},
    {"data_req_tail_far_forward", case_data_req_tail_forward},
    {"data_req_tail_without_entry", case_data_req_tail_without_entry},
    {"data_ctl_tail_far_forward", case_data_ctl_tail_forward},
    {"data_consumed_position_lie", case_data_consumed_lie},
    {"data_descriptor_flipped_while_read", case_data_flip},
    {"data_release_forged_header", case_data_forged_release},
    {"data_replies_never_consumed", case_data_no_consume},
    {"data_wake_byte_flood", case_data_wake_flood},
    {"data_random_descriptors", case_data_random},
    {"data_misaligned_payloads", case_data_misaligned},
    {"data_memfd_resized_after_handshake", case_data_memfd_resize},
};
enum { NCASES = sizeof s_cases / sizeof s_cases[0] };
static bool s_selected[NCASES];

static void usage(void)
{
    fprintf(stderr,
            "usage: test_hostile [--list | CASE...]\n"
            "  --list  print the case names, one a line, and run nothing\n"
            "  CASE    run only these cases (exact names), like RPAL_HOSTILE_CASE=name;\n"
            "          RPAL_HOSTILE_CASES=substring runs the cases whose name contains it\n");
}

/* Exact name -> index, or -1. */
static int case_index(const char *name)
{
    for (int i = 0; i < NCASES; i++)
        if (strcmp(s_cases[i].name, name) == 0)
            return i;
    return -1;
}

static void select_exact(const char *name)
{
    int i = case_index(name);
    if (i < 0) {
        fprintf(stderr, "test_hostile: no case named \"%s\" (--list shows them)\n", name);
        exit(TEST_FAIL);
    }
    s_selected[i] = true;
}

/* Marks the cases to run: the named ones (arguments, RPAL_HOSTILE_CASE),
 * those matching RPAL_HOSTILE_CASES, or all. A selection that names no case
 * fails: a typo must never pass as an empty run. */
static void select_cases(int argc, char **argv)
{
    const char *exact = getenv("RPAL_HOSTILE_CASE"), *sub = getenv("RPAL_HOSTILE_CASES");
    bool any = false;
    for (int a = 1; a < argc; a++, any = true)
        select_exact(argv[a]);
    if (exact && *exact) {
        select_exact(exact);
        any = true;
    }
    if (sub && *sub) {
        bool matched = false;
        for (int i = 0; i < NCASES; i++)
            if (strstr(s_cases[i].name, sub))
                s_selected[i] = matched = true;
        if (!matched) {
            fprintf(stderr, "test_hostile: RPAL_HOSTILE_CASES=\"%s\" matches no case (--list "
                    "shows them)\n", sub);
            exit(TEST_FAIL);
        }
        any = true;
    }
    for (int i = 0; i < NCASES && !any; i++)
        s_selected[i] = true;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        if (argc > 2) {
            usage();
            return TEST_FAIL;
        }
        for (int i = 0; i < NCASES; i++)
            printf("%s\n", s_cases[i].name);
        return 0;
    }
    for (int a = 1; a < argc; a++) {
        if (argv[a][0] == '-') {
            usage();
            return TEST_FAIL;
        }
    }
    select_cases(argc, argv);
    s_name = test_service_name("hostile");
    for (int i = 0; i < NCH; i++)
        chan_open(&s_ch[i]);
    /* children first: this process starts RPAL only after forking */
    s_pid[CH_G] = test_fork(good_main, NULL);
    s_pid[CH_R] = test_fork(raw_main, NULL);
    s_pid[CH_H] = test_fork(hostile_main, NULL);
    for (int i = 0; i < NCH; i++) {
        close(s_ch[i].cmd_rd);
        close(s_ch[i].rep_wr);
    }
    signal(SIGALRM, on_alarm);
    signal(SIGPIPE, SIG_IGN);
    alarm(100);

    test_init();
    rpal_set_logger(logger, NULL);
    s_svc = test_serve(s_name, &s_ep);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_SVC};
    CHECK_OK(rpal_epoll_ctl(s_ep, EPOLL_CTL_MOD, rpal_service_fd(s_svc), &ev));
    for (int i = 0; i < NCH; i++) {
        struct epoll_event e = {.events = EPOLLIN, .data.u64 = TAG_REP + (uint64_t)i};
        CHECK_OK(rpal_epoll_ctl(s_ep, EPOLL_CTL_ADD, s_ch[i].rep_rd, &e));
    }
    send_cmd(CH_G, 1, 0, 0, 0);
    send_cmd(CH_R, R_START, 0, 0, 0);
    send_cmd(CH_H, H_START, 0, 0, 0);
    SERVE_UNTIL(s_rep_seq[CH_R] && s_rep_seq[CH_H] && s_nconns == 2 && s_good_calls > 10, 10000,
                "the clients");
    for (int i = 0; i < s_nconns; i++) {
        if (s_conns[i].role == ROLE_GOOD)
            s_good = &s_conns[i];
        else if (s_conns[i].role == ROLE_HOSTILE)
            s_h1 = &s_conns[i];
    }
    CHECK(s_good && s_h1 && s_held);

    for (int i = 0; i < NCASES; i++) {
        if (s_selected[i]) {
            case_begin(s_cases[i].name);
            s_cases[i].run();
        }
    }

    /* the end: stop the good client, which checks the buffer it held */
    s_case = "shutdown";
    s_stop_good = true;
    SERVE_UNTIL(s_rep_seq[CH_G] && s_good->hup, 10000, "the good client's end");
    const struct rep *g = &s_rep[CH_G];
    CHECK(g->v[2] == 1); /* the held buffer was intact */
    CHECK(g->v[3] == 0); /* the good client never rejected anything */
    s_done[CH_G] = s_done[CH_R] = s_done[CH_H] = true;
    send_cmd(CH_R, R_QUIT, 0, 0, 0);
    send_cmd(CH_H, H_QUIT, 0, 0, 0);
    SERVE_UNTIL(s_h1->hup, 10000, "the hostile client's end");
    CHECK_CHILD(s_pid[CH_G], 10000);
    CHECK_CHILD(s_pid[CH_R], 10000);
    CHECK_CHILD(s_pid[CH_H], 10000);
    for (int i = 0; i < s_nconns; i++)
        if (!s_conns[i].released)
            release_conn(&s_conns[i]);
    CHECK_OK(rpal_unregister_service(s_svc));
    CHECK_OK(rpal_epoll_close(s_ep));
    CHECK_OK(rpal_exit());
    alarm(0);
    printf("hostile: %d cases (%d skipped); good client: %lld calls, slowest %.1f ms; %u reasons "
           "logged\n",
           s_ncases, s_nskipped, (long long)g->v[0], (double)g->v[1] / 1e6, s_nlog);
    if (s_nskipped == s_ncases) { /* only skipped cases ran: a skip, its reason last */
        printf("skip: %s\n", s_skip_why);
        return TEST_SKIP;
    }
    return 0;
}
