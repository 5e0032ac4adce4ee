/* SPDX-License-Identifier: MIT */
/*
 * rpal-latency-server - the receiving side of the seed's experiment.
 *
 * It listens on a Unix stream socket and serves one client session:
 *  - FLOOR run: a memfd page, passed to the client over the control socket,
 *    holds one cache line (struct lat_floor_line). Each turn spins until the
 *    client rings the line's seq, takes the TSC, and writes ack into the
 *    same line: no kernel, no library, the limit of the two CPUs.
 *  - EPOLL run: the accepted socket carries the messages. Each turn is
 *    epoll_wait() + read() of exactly one message, a TSC reading, and a
 *    1-byte acknowledgement that releases the client's next message.
 *  - RPAL run: rpal_init(), rpal_register_service(), the service fd in an
 *    rpal_epoll set, rpal_accept(), then the connection's EPOLLRPALIN events.
 *    Each turn is rpal_epoll_wait() + rpal_recv(), a TSC reading, and an
 *    empty rpal_reply() as the acknowledgement.
 * The one-way latency of a message is the TSC on receipt minus the TSC the
 * client wrote into its first word just before sending it. Warm-up messages
 * are not counted; the counted ones are kept in an array, sorted for the
 * percentiles, and the summary goes back to the client over the control
 * socket (see latency_common.h). When both FLOOR and RPAL run, the FLOOR line
 * stays set up through the EPOLL run, and FLOOR and RPAL then take turns in
 * blocks (LAT_BLOCKS), each block's summary sent as it ends.
 *
 * In paced mode (the client's MODE record says so) FLOOR is skipped, and the
 * EPOLL and RPAL runs come as one segment per gap: the client announces the
 * number of messages, the server serves them without keeping latencies, and
 * sends back its own CPU time over the counted ones (struct lat_cpu).
 *
 * The client (rpal-latency) normally starts this program itself, passing
 * --ready-fd: the server writes one byte there once it listens, so the client
 * never polls for it. Started by hand, it prints where it listens instead.
 */
#include "latency_common.h"

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define PROG "rpal-latency-server"

struct server_opts {
    char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    const char *service;
    uint64_t messages;
    uint32_t size;
    uint32_t runs;
    int cpu;
    int ready_fd;
    bool no_spin;
};

static const char *g_unlink_path; /* the listening socket, removed on exit */

static void cleanup(void)
{
    if (g_unlink_path) {
        unlink(g_unlink_path);
        g_unlink_path = NULL;
    }
}

static _Noreturn void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cleanup();
    exit(1);
}

static _Noreturn void usage(FILE *f, int code)
{
    fprintf(f,
            "usage: " PROG " [options]\n"
            "Serves one rpal-latency client session (normally started by rpal-latency).\n"
            "  --socket PATH     control socket to listen on (default $XDG_RUNTIME_DIR/\n"
            "                    rpal-latency.sock or /tmp/rpal-latency-UID.sock)\n"
            "  --service NAME    RPAL service name (default " LAT_DEFAULT_SERVICE ")\n"
            "  --messages N      counted messages per run (default 1000000)\n"
            "  --size B          message length, 8..32 bytes (default 32)\n"
            "  --cpu C           pin to CPU C (default: not pinned)\n"
            "  --no-spin         rpal_set_spin_ns(0): every RPAL wait parks\n"
            "  --floor-only      serve the FLOOR run only\n"
            "  --epoll-only      serve the EPOLL run only\n"
            "  --rpal-only       serve the RPAL run only\n"
            "  --floor           serve FLOOR too (with --epoll-only or --rpal-only)\n"
            "  --no-floor        do not serve FLOOR\n"
            "  --ready-fd FD     write one byte to FD once listening, then close it\n"
            "  --help            this text\n"
            "The client must be started with the same --messages, --size, --no-spin and\n"
            "run selection. Latency or paced mode is the client's choice.\n");
    exit(code);
}

static _Noreturn void usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, PROG ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry '" PROG " --help'.\n");
    exit(2);
}

static void parse_args(int argc, char **argv, struct server_opts *o)
{
    enum { O_SOCKET = 256, O_SERVICE, O_MESSAGES, O_SIZE, O_CPU, O_NO_SPIN, O_FLOOR_ONLY,
           O_EPOLL_ONLY, O_RPAL_ONLY, O_FLOOR, O_NO_FLOOR, O_READY_FD, O_HELP };
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, O_SOCKET},
        {"service", required_argument, NULL, O_SERVICE},
        {"messages", required_argument, NULL, O_MESSAGES},
        {"size", required_argument, NULL, O_SIZE},
        {"cpu", required_argument, NULL, O_CPU},
        {"no-spin", no_argument, NULL, O_NO_SPIN},
        {"floor-only", no_argument, NULL, O_FLOOR_ONLY},
        {"epoll-only", no_argument, NULL, O_EPOLL_ONLY},
        {"rpal-only", no_argument, NULL, O_RPAL_ONLY},
        {"floor", no_argument, NULL, O_FLOOR},
        {"no-floor", no_argument, NULL, O_NO_FLOOR},
        {"ready-fd", required_argument, NULL, O_READY_FD},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->service = LAT_DEFAULT_SERVICE;
    o->messages = LAT_DEFAULT_MESSAGES;
    o->size = LAT_DEFAULT_SIZE;
    o->cpu = -1;
    o->ready_fd = -1;
    bool have_socket = false;
    struct lat_run_choice runs = {0};
    const char *conflict = NULL;
    uint64_t v;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_SOCKET:
            if (strlen(optarg) >= sizeof o->socket_path)
                usage_error("socket path too long: %s", optarg);
            strcpy(o->socket_path, optarg);
            have_socket = true;
            break;
        case O_SERVICE:
            o->service = optarg;
            break;
        case O_MESSAGES:
            if (!lat_parse_u64(optarg, 1, LAT_MAX_MESSAGES, &o->messages))
                usage_error("--messages wants a count from 1 to 100,000,000, not '%s'", optarg);
            break;
        case O_SIZE:
            if (!lat_parse_u64(optarg, LAT_MIN_SIZE, LAT_MAX_SIZE, &v))
                usage_error("--size wants 8..32 bytes, not '%s'", optarg);
            o->size = (uint32_t)v;
            break;
        case O_CPU:
            if (!lat_parse_u64(optarg, 0, CPU_SETSIZE - 1, &v))
                usage_error("--cpu wants a CPU number, not '%s'", optarg);
            o->cpu = (int)v;
            break;
        case O_NO_SPIN:
            o->no_spin = true;
            break;
        case O_FLOOR_ONLY:
            conflict = lat_choose_only(&runs, LAT_RUN_FLOOR);
            break;
        case O_EPOLL_ONLY:
            conflict = lat_choose_only(&runs, LAT_RUN_EPOLL);
            break;
        case O_RPAL_ONLY:
            conflict = lat_choose_only(&runs, LAT_RUN_RPAL);
            break;
        case O_FLOOR:
            conflict = lat_choose_floor(&runs, 1);
            break;
        case O_NO_FLOOR:
            conflict = lat_choose_floor(&runs, -1);
            break;
        case O_READY_FD:
            if (!lat_parse_u64(optarg, 0, 1 << 20, &v))
                usage_error("--ready-fd wants a file descriptor, not '%s'", optarg);
            o->ready_fd = (int)v;
            break;
        case O_HELP:
            usage(stdout, 0);
        default:
            fprintf(stderr, "Try '" PROG " --help'.\n");
            exit(2);
        }
        if (conflict)
            usage_error("%s", conflict);
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    conflict = lat_chosen_runs(&runs, &o->runs);
    if (conflict)
        usage_error("%s", conflict);
    if (!have_socket && lat_default_socket(o->socket_path, sizeof o->socket_path) < 0)
        usage_error("default socket path too long (%s); use --socket", "$XDG_RUNTIME_DIR");
}

/* Binds and listens on path; a socket file left by a dead server is
 * replaced, a live server's is not. */
static int listen_on(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (errno != EADDRINUSE)
            die("cannot bind %s: %s", path, strerror(errno));
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe < 0)
            die("socket: %s", strerror(errno));
        int rc = connect(probe, (struct sockaddr *)&sa, sizeof sa);
        int err = errno;
        close(probe);
        if (rc == 0 || err != ECONNREFUSED)
            die("another server is listening on %s", path);
        if (unlink(path) < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
            die("cannot bind %s: %s", path, strerror(errno));
    }
    g_unlink_path = path;
    if (listen(fd, 1) < 0)
        die("listen: %s", strerror(errno));
    return fd;
}

static void set_timeouts(int fd)
{
    struct timeval tv = {.tv_sec = LAT_TIMEOUT_MS / 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
        die("setsockopt: %s", strerror(errno));
}

/* The sequence number a message carries in bytes 8..15 when it is long
 * enough: a lost or reordered message fails the run instead of skewing it. */
static void check_seq(const char *label, const struct server_opts *o, uint64_t seq,
                      uint64_t want)
{
    if (o->size >= 16 && seq != want)
        die("%s: message %llu arrived as number %llu", label, (unsigned long long)seq,
            (unsigned long long)want);
}

static void rpal_check(int rc, const char *what)
{
    if (rc < 0)
        die("RPAL: %s: %s", what, strerror(-rc));
}

/* One transport on the server side. serve() waits for message seq (of
 * total, for the messages), acknowledges it and returns its one-way latency
 * in TSC cycles; any failure ends the process with a message. Each run sets
 * up its transport, hands it to serve_run(), and tears it down. */
struct endpoint {
    const char *name;
    int64_t (*serve)(struct endpoint *e, uint64_t seq, uint64_t total);
    const struct server_opts *o;
    int ctl;                     /* EPOLL: the data path */
    int ep;                      /* EPOLL: an epoll set; RPAL: an rpal_epoll set */
    struct rpal_conn *conn;      /* RPAL */
    struct lat_floor_line *line; /* FLOOR */
};

static int64_t serve_floor(struct endpoint *e, uint64_t seq, uint64_t total)
{
    struct lat_floor_line *line = e->line;
    if (lat_spin_until(&line->seq, seq + 1, LAT_TIMEOUT_MS) < 0)
        die("FLOOR: no message for %d ms (message %llu of %llu)", LAT_TIMEOUT_MS,
            (unsigned long long)seq, (unsigned long long)total);
    uint64_t now = lat_tsc();
    check_seq("FLOOR", e->o, line->words[1], seq);
    int64_t latency = (int64_t)(now - line->words[0]);
    __atomic_store_n(&line->ack, seq + 1, __ATOMIC_RELEASE);
    return latency;
}

static int64_t serve_epoll(struct endpoint *e, uint64_t seq, uint64_t total)
{
    struct epoll_event ev;
    for (;;) {
        int n = epoll_wait(e->ep, &ev, 1, LAT_TIMEOUT_MS);
        if (n > 0)
            break;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("EPOLL: epoll_wait: %s", strerror(errno));
        die("EPOLL: no message for %d ms (message %llu of %llu)", LAT_TIMEOUT_MS,
            (unsigned long long)seq, (unsigned long long)total);
    }
    uint64_t buf[LAT_MAX_SIZE / 8] = {0};
    int rc = lat_read_full(e->ctl, buf, e->o->size);
    uint64_t now = lat_tsc();
    if (rc < 0)
        die("EPOLL: read: %s", rc == -EPIPE ? "the client went away" : strerror(-rc));
    check_seq("EPOLL", e->o, buf[1], seq);
    const char ack = 'a';
    rc = lat_write_full(e->ctl, &ack, 1);
    if (rc < 0)
        die("EPOLL: write: %s", strerror(-rc));
    return (int64_t)(now - buf[0]);
}

static int64_t serve_rpal(struct endpoint *e, uint64_t seq, uint64_t total)
{
    static const struct rpal_msg ack = {0};
    struct epoll_event evs[4];
    for (;;) {
        int n = rpal_epoll_wait(e->ep, evs, 4, LAT_TIMEOUT_MS);
        if (n == -EINTR)
            continue;
        rpal_check(n, "rpal_epoll_wait");
        if (n == 0)
            die("RPAL: no message for %d ms (message %llu of %llu)", LAT_TIMEOUT_MS,
                (unsigned long long)seq, (unsigned long long)total);
        for (int k = 0; k < n; k++) {
            if (evs[k].events & EPOLLRPALHUP)
                die("RPAL: the client went away (message %llu of %llu)",
                    (unsigned long long)seq, (unsigned long long)total);
            if (!(evs[k].events & EPOLLRPALIN))
                continue;
            struct rpal_msg msg;
            int rc = rpal_recv(e->conn, &msg);
            uint64_t now = lat_tsc();
            if (rc == -EAGAIN)
                continue;
            rpal_check(rc, "rpal_recv");
            if (msg.id == 0)
                die("RPAL: message %llu is one-way, expected a call", (unsigned long long)seq);
            check_seq("RPAL", e->o, msg.words[1], seq);
            rpal_check(rpal_reply(e->conn, msg.id, &ack), "rpal_reply");
            return (int64_t)(now - msg.words[0]);
        }
    }
}

static void send_result(int ctl, const char *label, int64_t *samples, uint64_t n)
{
    struct lat_result r;
    lat_summarise(samples, n, &r);
    int rc = lat_send_record(ctl, LAT_RESULT, &r, sizeof r);
    if (rc < 0)
        die("%s: cannot send the result: %s", label, strerror(-rc));
}

/* Paced mode: one segment per gap, transport and round, each announced by
 * the client (epoll and rpal: the endpoints set up, NULL when not run). The
 * CPU window opens at the end of the last warm-up message, as the client's
 * does, so both cover the same calls gaps and calls messages. */
static void serve_paced(int ctl, struct endpoint *epoll_e, struct endpoint *rpal_e,
                        const struct lat_mode *mode)
{
    for (uint32_t s = 0; s < mode->segments; s++) {
        struct lat_segment seg;
        int rc = lat_recv_record(ctl, LAT_SEGMENT, &seg, sizeof seg);
        if (rc < 0)
            die("no segment %u from the client: %s", s,
                rc == -EPIPE ? "the client went away" : strerror(-rc));
        struct endpoint *e = seg.run == LAT_RUN_EPOLL ? epoll_e
                             : seg.run == LAT_RUN_RPAL ? rpal_e : NULL;
        if (!e)
            die("the client sent segment %u for run %u, which this session does not have", s,
                seg.run);
        if (seg.warmup == 0 || seg.warmup > LAT_PACED_MAX_CALLS || seg.calls == 0 ||
            seg.calls > LAT_PACED_MAX_CALLS)
            die("%s: the client sent a bad gap (%llu warm-up, %llu calls)", e->name,
                (unsigned long long)seg.warmup, (unsigned long long)seg.calls);
        const uint64_t total = seg.warmup + seg.calls;
        uint64_t cpu0 = 0;
        for (uint64_t i = 0; i < total; i++) {
            e->serve(e, i, total);
            if (i + 1 == seg.warmup)
                cpu0 = lat_cpu_ns();
        }
        struct lat_cpu cpu = {.cpu_ns = lat_cpu_ns() - cpu0, .calls = seg.calls};
        rc = lat_send_record(ctl, LAT_CPU, &cpu, sizeof cpu);
        if (rc < 0)
            die("%s: cannot send the CPU time: %s", e->name, strerror(-rc));
    }
}

/* Serves one latency run on a set-up transport: the warm-up, then the
 * counted messages' latencies into samples, the summary to the client. */
static void serve_run(int ctl, struct endpoint *e, int64_t *samples)
{
    const uint64_t warmup = lat_warmup(e->o->messages), total = warmup + e->o->messages;
    for (uint64_t i = 0; i < total; i++) {
        int64_t latency = e->serve(e, i, total);
        if (i >= warmup)
            samples[i - warmup] = latency;
    }
    send_result(ctl, e->name, samples, e->o->messages);
}

/* FLOOR: the line lives in a memfd so that the client gets it over the
 * control socket, whether it started this server or not. */
static void open_floor(int ctl, const struct server_opts *o, struct endpoint *e)
{
    int fd = memfd_create("rpal-latency-floor", MFD_CLOEXEC);
    if (fd < 0)
        die("FLOOR: memfd_create: %s", strerror(errno));
    if (ftruncate(fd, sizeof(struct lat_floor_line)) < 0)
        die("FLOOR: ftruncate: %s", strerror(errno));
    struct lat_floor_line *line =
        mmap(NULL, sizeof *line, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (line == MAP_FAILED)
        die("FLOOR: mmap: %s", strerror(errno));
    int rc = lat_send_record_fd(ctl, LAT_FLOOR_READY, fd);
    if (rc < 0)
        die("FLOOR: cannot pass the line to the client: %s", strerror(-rc));
    close(fd);
    *e = (struct endpoint){.name = "FLOOR", .serve = serve_floor, .o = o, .line = line};
}

static void close_floor(struct endpoint *e)
{
    munmap(e->line, sizeof *e->line);
}

/* EPOLL: the control socket is the data path. */
static void open_epoll(int ctl, const struct server_opts *o, struct endpoint *e)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1: %s", strerror(errno));
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ctl};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, ctl, &ev) < 0)
        die("epoll_ctl: %s", strerror(errno));
    *e = (struct endpoint){.name = "EPOLL", .serve = serve_epoll, .o = o, .ctl = ctl, .ep = ep};
}

/* Waits for one client on the service and returns its connection. */
static struct rpal_conn *rpal_accept_one(int ep, struct rpal_service *svc)
{
    struct epoll_event evs[4];
    for (;;) {
        int n = rpal_epoll_wait(ep, evs, 4, LAT_TIMEOUT_MS);
        if (n == -EINTR)
            continue;
        rpal_check(n, "rpal_epoll_wait");
        if (n == 0)
            die("RPAL: no client connected within %d ms", LAT_TIMEOUT_MS);
        struct rpal_conn *conn;
        int rc = rpal_accept(svc, &conn);
        if (rc == 0)
            return conn;
        if (rc == -EAGAIN)
            continue;
        if (rc == -EACCES || rc == -EPROTO || rc == -EBADFD) {
            fprintf(stderr, PROG ": RPAL: refused a client: %s\n", strerror(-rc));
            continue;
        }
        rpal_check(rc, "rpal_accept");
    }
}

static void open_rpal(int ctl, const struct server_opts *o, struct endpoint *e)
{
    rpal_check(rpal_init(NULL), "rpal_init");
    if (o->no_spin)
        rpal_check(rpal_set_spin_ns(0), "rpal_set_spin_ns");

    struct rpal_service *svc;
    int rc = rpal_register_service(o->service, &svc, NULL);
    if (rc == -EADDRINUSE)
        die("RPAL: another live process serves '%s'", o->service);
    if (rc == -EINVAL || rc == -ENAMETOOLONG)
        die("RPAL: '%s' is not a valid service name (up to %d of [A-Za-z0-9._-], not "
            "starting with '.')", o->service, RPAL_NAME_MAX);
    rpal_check(rc, "rpal_register_service");
    int ep = rpal_epoll_create(EPOLL_CLOEXEC);
    rpal_check(ep, "rpal_epoll_create");
    int sfd = rpal_service_fd(svc);
    rpal_check(sfd, "rpal_service_fd");
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
    rpal_check(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev), "rpal_epoll_ctl(service)");

    /* The client asks for the service only after this record: no polling. */
    struct lat_ready ready = {{0}};
    snprintf(ready.service, sizeof ready.service, "%s", o->service);
    rc = lat_send_record(ctl, LAT_RPAL_READY, &ready, sizeof ready);
    if (rc < 0)
        die("RPAL: cannot tell the client: %s", strerror(-rc));

    struct rpal_conn *conn = rpal_accept_one(ep, svc);
    rpal_check(rpal_epoll_ctl(ep, EPOLL_CTL_DEL, sfd, &ev), "rpal_epoll_ctl(del service)");
    rpal_check(rpal_unregister_service(svc), "rpal_unregister_service");
    int cfd = rpal_conn_fd(conn);
    rpal_check(cfd, "rpal_conn_fd");
    ev.events = EPOLLRPALIN | EPOLLRPALHUP;
    ev.data.u64 = 1;
    rpal_check(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev), "rpal_epoll_ctl(connection)");

    *e = (struct endpoint){.name = "RPAL", .serve = serve_rpal, .o = o, .ep = ep, .conn = conn};
}

static void close_rpal(int ctl, struct endpoint *e)
{
    /* The client releases its end, then closes the control socket. */
    char b;
    lat_read_full(ctl, &b, 1);
    rpal_check(rpal_release_service(e->conn), "rpal_release_service");
    rpal_check(rpal_epoll_close(e->ep), "rpal_epoll_close");
    rpal_check(rpal_exit(), "rpal_exit");
}

/* FLOOR and RPAL in turns (lat_blocks): both warm up, then each block of
 * counted messages on FLOOR and on RPAL, its summary sent as it ends; then
 * each run's summary over all its blocks. A block's summary sorts its own
 * part of the samples, which the run's summary sorts again as a whole. */
static void serve_interleaved(int ctl, const struct server_opts *o, struct endpoint *runs[2],
                              int64_t *samples[2], uint32_t blocks)
{
    const uint64_t warmup = lat_warmup(o->messages), total = warmup + o->messages;
    for (int k = 0; k < 2; k++)
        for (uint64_t i = 0; i < warmup; i++)
            runs[k]->serve(runs[k], i, total);
    for (uint32_t b = 0; b < blocks; b++) {
        uint64_t from = lat_block_start(o->messages, blocks, b);
        uint64_t to = lat_block_start(o->messages, blocks, b + 1);
        for (int k = 0; k < 2; k++) {
            for (uint64_t i = from; i < to; i++)
                samples[k][i] = runs[k]->serve(runs[k], warmup + i, total);
            send_result(ctl, runs[k]->name, samples[k] + from, to - from);
        }
    }
    for (int k = 0; k < 2; k++)
        send_result(ctl, runs[k]->name, samples[k], o->messages);
}

int main(int argc, char **argv)
{
    struct server_opts o;
    parse_args(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    if (o.ready_fd >= 0)
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* started by the client: die with it */

    int rc = lat_pin(o.cpu);
    if (rc < 0)
        die("cannot pin to CPU %d: %s", o.cpu, strerror(-rc));

    /* Allocate and touch the sample array before anything is timed. */
    int64_t *samples = malloc(o.messages * sizeof *samples);
    if (!samples)
        die("out of memory for %llu samples", (unsigned long long)o.messages);
    memset(samples, 0, o.messages * sizeof *samples);

    int lfd = listen_on(o.socket_path);
    if (o.ready_fd >= 0) {
        if (lat_write_full(o.ready_fd, "R", 1) < 0)
            die("cannot write to --ready-fd %d", o.ready_fd);
        close(o.ready_fd);
    } else {
        printf(PROG ": pid %d listening on %s (RPAL service %s)\n", (int)getpid(),
               o.socket_path, o.service);
        fflush(stdout);
    }

    int ctl = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (ctl < 0)
        die("accept: %s", strerror(errno));
    close(lfd);
    cleanup(); /* one session: nobody else may connect */
    set_timeouts(ctl);

    struct lat_hello h = {
        .messages = o.messages,
        .warmup = lat_warmup(o.messages),
        .size = o.size,
        .runs = o.runs,
        .no_spin = o.no_spin,
        .pid = (int32_t)getpid(),
    };
    rc = lat_send_record(ctl, LAT_HELLO, &h, sizeof h);
    if (rc < 0)
        die("cannot greet the client: %s", strerror(-rc));
    struct lat_mode mode;
    rc = lat_recv_record(ctl, LAT_MODE, &mode, sizeof mode);
    if (rc < 0)
        die("no mode from the client: %s", rc == -EPIPE ? "it went away (after the "
            "greeting: see its message)" : strerror(-rc));
    if (mode.paced > 1 ||
        (mode.paced && (mode.segments == 0 ||
                        mode.segments > 2 * LAT_PACED_MAX_GAPS * LAT_PACED_MAX_ROUNDS)))
        die("the client sent a bad mode (paced %u, %u gaps)", mode.paced, mode.segments);

    /* FLOOR is not paced: both sides leave it out of a paced session. */
    uint32_t runs = mode.paced ? o.runs & ~LAT_RUN_FLOOR : o.runs;
    uint32_t blocks = lat_blocks(runs, mode.paced, o.messages);
    struct endpoint floor_e, epoll_e, rpal_e;
    int64_t *rpal_samples = samples;
    if (blocks) {
        rpal_samples = malloc(o.messages * sizeof *rpal_samples);
        if (!rpal_samples)
            die("out of memory for %llu samples", (unsigned long long)o.messages);
        memset(rpal_samples, 0, o.messages * sizeof *rpal_samples);
    }
    if (runs & LAT_RUN_FLOOR) {
        open_floor(ctl, &o, &floor_e);
        if (!blocks) {
            serve_run(ctl, &floor_e, samples);
            close_floor(&floor_e);
        }
    }
    if (runs & LAT_RUN_EPOLL) {
        open_epoll(ctl, &o, &epoll_e);
        if (!mode.paced)
            serve_run(ctl, &epoll_e, samples);
    }
    if (runs & LAT_RUN_RPAL)
        open_rpal(ctl, &o, &rpal_e);
    if (mode.paced)
        serve_paced(ctl, runs & LAT_RUN_EPOLL ? &epoll_e : NULL,
                    runs & LAT_RUN_RPAL ? &rpal_e : NULL, &mode);
    else if (blocks) {
        serve_interleaved(ctl, &o, (struct endpoint *[2]){&floor_e, &rpal_e},
                          (int64_t *[2]){samples, rpal_samples}, blocks);
        close_floor(&floor_e);
    } else if (runs & LAT_RUN_RPAL)
        serve_run(ctl, &rpal_e, samples);
    if (runs & LAT_RUN_EPOLL)
        close(epoll_e.ep);
    if (runs & LAT_RUN_RPAL) {
        close_rpal(ctl, &rpal_e);
    } else {
        char b;
        lat_read_full(ctl, &b, 1); /* wait for the client to close */
    }
    close(ctl);
    if (rpal_samples != samples)
        free(rpal_samples);
    free(samples);
    return 0;
}
