/* SPDX-License-Identifier: MIT */
/*
 * rpal-latency - the seed's experiment: one-way latency of small messages
 * between two processes, over a Unix socket with epoll (EPOLL) and over RPAL.
 *
 * The client starts rpal-latency-server (beside its own executable) as a
 * child process, pins itself and the server to two CPUs, and runs ping-pong:
 * it writes the TSC into message i just before sending it, the server takes
 * the TSC on receipt and keeps the difference, acknowledges, and only then is
 * message i+1 sent, so no message ever queues. 1% of the messages (at least
 * 1000) warm up first and are not counted. EPOLL runs first (write() of the
 * message, read() of a 1-byte ack), RPAL second (rpal_call() with the TSC in
 * words[0], an empty rpal_reply() as the ack). The server sorts the
 * latencies and sends back the total and the percentiles; the client prints
 * them in the seed's format:
 *   EPOLL: Message length: 32 bytes, Total TSC cycles: T, Message count: N,
 *          Average latency: A cycles                          (one line)
 * Lines starting with '#' are notes.
 */
#include "latency_common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG "rpal-latency"
#define SERVER_NAME "rpal-latency-server"

struct client_opts {
    uint64_t messages;
    uint32_t size;
    uint32_t runs;
    bool no_spin;
    bool spawn;
    const char *server;      /* --server, NULL: beside this executable */
    const char *socket_path; /* --socket, NULL: default (with --no-spawn) */
    int cpu_client, cpu_server; /* -1: not pinned */
    bool cpus_given;
};

/* State undone by cleanup() on every exit path. */
static volatile pid_t g_child = -1; /* read by on_signal() */
static char g_tmpdir[64];
static char g_sock[sizeof(((struct sockaddr_un *)0)->sun_path)];

static void cleanup(void)
{
    if (g_child > 0) {
        kill(g_child, SIGTERM);
        waitpid(g_child, NULL, 0);
        g_child = -1;
    }
    if (g_tmpdir[0]) {
        unlink(g_sock); /* the server removes it; this is for a server that died early */
        rmdir(g_tmpdir);
        g_tmpdir[0] = '\0';
    }
}

/* Ctrl-C or kill during a run: stop the server and remove the temp dir with
 * async-signal-safe calls only. */
static void on_signal(int sig)
{
    if (g_child > 0) {
        kill(g_child, SIGTERM);
        waitpid(g_child, NULL, 0);
    }
    if (g_tmpdir[0]) {
        unlink(g_sock);
        rmdir(g_tmpdir);
    }
    _exit(128 + sig);
}

static _Noreturn void die(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cleanup();
    exit(1);
}

static void warn(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, PROG ": warning: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static _Noreturn void usage(FILE *f, int code)
{
    fprintf(f,
            "usage: " PROG " [options]\n"
            "One-way latency of small messages between two processes, ping-pong, in TSC\n"
            "cycles: a Unix socket with epoll (EPOLL) first, then RPAL.\n"
            "  --messages N    counted messages per run (default 1,000,000; 1%% more, at\n"
            "                  least 1000, warm up first)\n"
            "  --size B        message length, 8..32 bytes (default 32): the bytes EPOLL\n"
            "                  writes; an RPAL message always carries its 4 inline words\n"
            "  --no-spin       RPAL with rpal_set_spin_ns(0) in both processes: every wait\n"
            "                  parks, so the wake-up path is measured\n"
            "  --cpus A,B      pin the client to CPU A and the server to CPU B (default:\n"
            "                  the last two CPUs this process may use)\n"
            "  --epoll-only    only the EPOLL run\n"
            "  --rpal-only     only the RPAL run\n"
            "  --server PATH   the server program (default: " SERVER_NAME " beside this one)\n"
            "  --no-spawn      use a server started by hand with the same --messages,\n"
            "                  --size, --no-spin and run selection (and --cpu B)\n"
            "  --socket PATH   with --no-spawn: the server's control socket (default\n"
            "                  $XDG_RUNTIME_DIR/rpal-latency.sock or /tmp/rpal-latency-UID.sock)\n"
            "  --help          this text\n"
            "Exit status: 0 done, 1 runtime failure, 2 usage error.\n");
    exit(code);
}

static _Noreturn void usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '" PROG " --help'.\n");
    exit(2);
}

static void parse_cpus(const char *arg, struct client_opts *o)
{
    const char *comma = strchr(arg, ',');
    char a[16];
    uint64_t x, y;
    if (!comma || (size_t)(comma - arg) >= sizeof a)
        usage_error("--cpus wants two CPU numbers A,B, not '%s'", arg);
    memcpy(a, arg, (size_t)(comma - arg));
    a[comma - arg] = '\0';
    if (strchr(comma + 1, ',') || !lat_parse_u64(a, 0, CPU_SETSIZE - 1, &x) ||
        !lat_parse_u64(comma + 1, 0, CPU_SETSIZE - 1, &y))
        usage_error("--cpus wants two CPU numbers A,B, not '%s'", arg);
    o->cpu_client = (int)x;
    o->cpu_server = (int)y;
    o->cpus_given = true;
}

static void parse_args(int argc, char **argv, struct client_opts *o)
{
    enum { O_MESSAGES = 256, O_SIZE, O_NO_SPIN, O_CPUS, O_EPOLL_ONLY, O_RPAL_ONLY, O_SERVER,
           O_NO_SPAWN, O_SOCKET, O_HELP };
    static const struct option longopts[] = {
        {"messages", required_argument, NULL, O_MESSAGES},
        {"size", required_argument, NULL, O_SIZE},
        {"no-spin", no_argument, NULL, O_NO_SPIN},
        {"cpus", required_argument, NULL, O_CPUS},
        {"epoll-only", no_argument, NULL, O_EPOLL_ONLY},
        {"rpal-only", no_argument, NULL, O_RPAL_ONLY},
        {"server", required_argument, NULL, O_SERVER},
        {"no-spawn", no_argument, NULL, O_NO_SPAWN},
        {"socket", required_argument, NULL, O_SOCKET},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->messages = LAT_DEFAULT_MESSAGES;
    o->size = LAT_DEFAULT_SIZE;
    o->runs = LAT_RUN_EPOLL | LAT_RUN_RPAL;
    o->spawn = true;
    o->cpu_client = o->cpu_server = -1;
    uint64_t v;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_MESSAGES:
            if (!lat_parse_u64(optarg, 1, LAT_MAX_MESSAGES, &o->messages))
                usage_error("--messages wants a count from 1 to 100,000,000, not '%s'", optarg);
            break;
        case O_SIZE:
            if (!lat_parse_u64(optarg, LAT_MIN_SIZE, LAT_MAX_SIZE, &v))
                usage_error("--size wants 8..32 bytes (a TSC stamp, and the 32 bytes of "
                            "RPAL's inline words at most), not '%s'", optarg);
            o->size = (uint32_t)v;
            break;
        case O_NO_SPIN:
            o->no_spin = true;
            break;
        case O_CPUS:
            parse_cpus(optarg, o);
            break;
        case O_EPOLL_ONLY:
            if (o->runs == LAT_RUN_RPAL)
                usage_error("--epoll-only and --rpal-only exclude each other");
            o->runs = LAT_RUN_EPOLL;
            break;
        case O_RPAL_ONLY:
            if (o->runs == LAT_RUN_EPOLL)
                usage_error("--epoll-only and --rpal-only exclude each other");
            o->runs = LAT_RUN_RPAL;
            break;
        case O_SERVER:
            o->server = optarg;
            break;
        case O_NO_SPAWN:
            o->spawn = false;
            break;
        case O_SOCKET:
            if (strlen(optarg) >= sizeof g_sock)
                usage_error("socket path too long: %s", optarg);
            o->socket_path = optarg;
            break;
        case O_HELP:
            usage(stdout, 0);
        default:
            fprintf(stderr, "Try '" PROG " --help'.\n");
            exit(2);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (o->spawn && o->socket_path)
        usage_error("--socket goes with --no-spawn (a spawned server gets a private one)");
    if (!o->spawn && o->server)
        usage_error("--server and --no-spawn exclude each other");
}

/* Picks the CPUs: --cpus if given (each must be allowed), else the last two
 * allowed; with a single allowed CPU nothing is pinned. */
static void choose_cpus(struct client_opts *o)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) < 0)
        die("sched_getaffinity: %s", strerror(errno));
    int count = CPU_COUNT(&set), last = -1, before_last = -1;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &set)) {
            before_last = last;
            last = cpu;
        }
    }
    if (o->cpus_given) {
        if (!CPU_ISSET(o->cpu_client, &set) || !CPU_ISSET(o->cpu_server, &set))
            usage_error("--cpus %d,%d: CPU %d is not allowed to this process (%d allowed, "
                        "the highest %d)", o->cpu_client, o->cpu_server,
                        CPU_ISSET(o->cpu_client, &set) ? o->cpu_server : o->cpu_client,
                        count, last);
        if (o->cpu_client == o->cpu_server)
            warn("client and server share CPU %d: every message waits for a context switch",
                 o->cpu_client);
        return;
    }
    if (count < 2) {
        warn("only CPU %d is allowed to this process: client and server share it, not "
             "pinned; every message waits for a context switch", last);
        return;
    }
    o->cpu_client = before_last;
    o->cpu_server = last;
}

/* Checks that the TSC is invariant (constant rate, ticking in idle states)
 * and estimates its rate, to read cycles as time. Returns GHz, 0 if unknown. */
static double check_tsc(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    bool constant = false, nonstop = false, seen = false;
    char line[8192];
    while (f && !seen && fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        seen = true;
        for (char *save, *tok = strtok_r(line, " \t\n", &save); tok;
             tok = strtok_r(NULL, " \t\n", &save)) {
            constant |= strcmp(tok, "constant_tsc") == 0;
            nonstop |= strcmp(tok, "nonstop_tsc") == 0;
        }
    }
    if (f)
        fclose(f);
    if (!constant || !nonstop)
        warn("the TSC is not known to be invariant (%s%s%s missing from /proc/cpuinfo): "
             "cycles read on two CPUs may not be comparable",
             constant ? "" : "constant_tsc", !constant && !nonstop ? ", " : "",
             nonstop ? "" : "nonstop_tsc");

    struct timespec t0, t1, nap = {.tv_nsec = 20 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC_RAW, &t0);
    uint64_t c0 = lat_tsc();
    nanosleep(&nap, NULL);
    clock_gettime(CLOCK_MONOTONIC_RAW, &t1);
    uint64_t c1 = lat_tsc();
    double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    return ns > 0 ? (double)(c1 - c0) / ns : 0;
}

/* The server program: --server, or rpal-latency-server beside /proc/self/exe. */
static void server_path(const struct client_opts *o, char *buf, size_t size)
{
    if (o->server) {
        snprintf(buf, size, "%s", o->server);
    } else {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n < 0)
            die("cannot read /proc/self/exe: %s", strerror(errno));
        exe[n] = '\0';
        if ((size_t)snprintf(buf, size, "%s/" SERVER_NAME, dirname(exe)) >= size)
            die("path of " SERVER_NAME " too long");
    }
    if (access(buf, X_OK) < 0)
        die("cannot run the server %s: %s (use --server PATH)", buf, strerror(errno));
}

static void describe_exit(int status, char *buf, size_t size)
{
    if (WIFEXITED(status))
        snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, size, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(buf, size, "status 0x%x", status);
}

/* Starts the server in a private temp dir and waits until it listens: it
 * writes one byte to the pipe passed as --ready-fd (no polling). */
static void spawn_server(const struct client_opts *o)
{
    char path[PATH_MAX];
    server_path(o, path, sizeof path);

    snprintf(g_tmpdir, sizeof g_tmpdir, "/tmp/rpal-latency-XXXXXX");
    if (!mkdtemp(g_tmpdir)) {
        g_tmpdir[0] = '\0';
        die("mkdtemp: %s", strerror(errno));
    }
    snprintf(g_sock, sizeof g_sock, "%s/control.sock", g_tmpdir);

    int ready[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        die("pipe2: %s", strerror(errno));

    char service[RPAL_NAME_MAX + 1], messages[24], size[8], cpu[16], fd[16];
    snprintf(service, sizeof service, LAT_DEFAULT_SERVICE "-%d", (int)getpid());
    snprintf(messages, sizeof messages, "%llu", (unsigned long long)o->messages);
    snprintf(size, sizeof size, "%u", o->size);
    snprintf(cpu, sizeof cpu, "%d", o->cpu_server);
    snprintf(fd, sizeof fd, "%d", ready[1]);
    char *argv[20];
    int argc = 0;
    argv[argc++] = path;
    argv[argc++] = "--socket";
    argv[argc++] = g_sock;
    argv[argc++] = "--service";
    argv[argc++] = service;
    argv[argc++] = "--messages";
    argv[argc++] = messages;
    argv[argc++] = "--size";
    argv[argc++] = size;
    argv[argc++] = "--ready-fd";
    argv[argc++] = fd;
    if (o->cpu_server >= 0) {
        argv[argc++] = "--cpu";
        argv[argc++] = cpu;
    }
    if (o->no_spin)
        argv[argc++] = "--no-spin";
    if (o->runs == LAT_RUN_EPOLL)
        argv[argc++] = "--epoll-only";
    if (o->runs == LAT_RUN_RPAL)
        argv[argc++] = "--rpal-only";
    argv[argc] = NULL;

    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        /* Only async-signal-safe calls between fork and exec. */
        fcntl(ready[1], F_SETFD, 0); /* the server inherits the write end */
        execv(path, argv);
        static const char msg[] = PROG ": cannot exec the server\n";
        (void)!write(2, msg, sizeof msg - 1);
        _exit(127);
    }
    g_child = pid;
    close(ready[1]);

    struct pollfd pfd = {.fd = ready[0], .events = POLLIN};
    int n;
    do
        n = poll(&pfd, 1, LAT_TIMEOUT_MS);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        die("the server did not start within %d ms", LAT_TIMEOUT_MS);
    char b;
    if (n < 0 || read(ready[0], &b, 1) != 1) {
        int status;
        char why[64] = "unknown status";
        if (waitpid(pid, &status, 0) == pid) {
            g_child = -1;
            describe_exit(status, why, sizeof why);
        }
        die("the server %s ended before listening (%s)", path, why);
    }
    close(ready[0]);
}

/* Connects to the server's control socket. A server started by hand may not
 * listen yet: then retry for LAT_TIMEOUT_MS. */
static int connect_server(const char *path, bool retry)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    struct timespec start, now, nap = {.tv_nsec = 10 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            die("socket: %s", strerror(errno));
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            return fd;
        int err = errno;
        close(fd);
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (!retry || (err != ENOENT && err != ECONNREFUSED) || ms >= LAT_TIMEOUT_MS)
            die("cannot connect to the server at %s: %s%s", path, strerror(err),
                retry ? " (is rpal-latency-server running?)" : "");
        nanosleep(&nap, NULL);
    }
}

static void set_timeouts(int fd)
{
    struct timeval tv = {.tv_sec = LAT_TIMEOUT_MS / 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
        die("setsockopt: %s", strerror(errno));
}

static void recv_record(int ctl, uint32_t type, void *body, size_t len, const char *what)
{
    int rc = lat_recv_record(ctl, type, body, len);
    if (rc == -EPIPE)
        die("%s: the server closed the connection (see its messages above)", what);
    if (rc == -EPROTO)
        die("%s: unexpected record from the server (a server from another build?)", what);
    if (rc < 0)
        die("%s: %s", what, strerror(-rc));
}

/* The server's parameters must be ours (they differ only with --no-spawn). */
static const char *run_names(uint32_t runs)
{
    return runs == LAT_RUN_EPOLL ? "EPOLL only" : runs == LAT_RUN_RPAL ? "RPAL only" : "both";
}

static void check_hello(const struct lat_hello *h, const struct client_opts *o)
{
    char diff[128] = "";
    if (h->messages != o->messages)
        snprintf(diff, sizeof diff, "--messages %llu, here %llu",
                 (unsigned long long)h->messages, (unsigned long long)o->messages);
    else if (h->size != o->size)
        snprintf(diff, sizeof diff, "--size %u, here %u", h->size, o->size);
    else if (h->runs != o->runs)
        snprintf(diff, sizeof diff, "runs %s, here %s", run_names(h->runs), run_names(o->runs));
    else if ((h->no_spin != 0) != o->no_spin)
        snprintf(diff, sizeof diff, "%s --no-spin, here %s", h->no_spin ? "with" : "without",
                 o->no_spin ? "with" : "without");
    else if (h->warmup != lat_warmup(o->messages))
        snprintf(diff, sizeof diff, "%llu warm-up messages (another build?)",
                 (unsigned long long)h->warmup);
    if (diff[0])
        die("the server (pid %d) was started with other options: %s; give both the same "
            "--messages, --size, --no-spin and --epoll-only/--rpal-only", (int)h->pid, diff);
}

static void print_result(const char *label, const struct client_opts *o,
                         const struct lat_result *r)
{
    printf("%s: Message length: %u bytes, Total TSC cycles: %lld, Message count: %llu, "
           "Average latency: %lld cycles\n",
           label, o->size, (long long)r->total, (unsigned long long)r->count,
           (long long)(r->total / (int64_t)r->count));
    printf("%s: p50: %lld, p90: %lld, p99: %lld, p99.9: %lld, max: %lld cycles\n", label,
           (long long)r->p50, (long long)r->p90, (long long)r->p99, (long long)r->p999,
           (long long)r->max);
    fflush(stdout);
    if (r->negative)
        warn("%s: %llu samples were negative (min %lld): the TSCs of the two CPUs disagree",
             label, (unsigned long long)r->negative, (long long)r->min);
}

/* EPOLL run: write() the message with the TSC in its first 8 bytes (and the
 * sequence number in the next 8 when it is long enough), block in read() for
 * the 1-byte ack. */
static void run_epoll(int ctl, const struct client_opts *o, struct lat_result *r)
{
    const uint64_t total = lat_warmup(o->messages) + o->messages;
    uint64_t buf[LAT_MAX_SIZE / 8] = {0};
    char ack;
    for (uint64_t i = 0; i < total; i++) {
        buf[1] = i; /* beyond o->size when the message is 8 bytes: not sent */
        buf[0] = lat_tsc();
        int rc = lat_write_full(ctl, buf, o->size);
        if (rc == 0)
            rc = lat_read_full(ctl, &ack, 1);
        if (rc == -EPIPE || rc == -ECONNRESET)
            die("EPOLL: the server went away at message %llu (see its messages above)",
                (unsigned long long)i);
        if (rc < 0)
            die("EPOLL: message %llu: %s", (unsigned long long)i, strerror(-rc));
    }
    recv_record(ctl, LAT_RESULT, r, sizeof *r, "EPOLL result");
}

static void rpal_check(int rc, const char *what)
{
    if (rc < 0)
        die("RPAL: %s: %s", what, strerror(-rc));
}

/* RPAL run: rpal_call() with the TSC in words[0] (and the sequence number in
 * words[1]); the empty reply is the ack. */
static void run_rpal(int ctl, const struct client_opts *o, struct lat_result *r,
                     struct rpal_conn_stats *st, bool *have_stats)
{
    struct lat_ready ready;
    recv_record(ctl, LAT_RPAL_READY, &ready, sizeof ready, "RPAL start");
    ready.service[RPAL_NAME_MAX] = '\0';

    rpal_check(rpal_init(NULL), "rpal_init");
    if (o->no_spin)
        rpal_check(rpal_set_spin_ns(0), "rpal_set_spin_ns");

    /* The server registered before it sent READY, so -ENOENT is not expected;
     * still, give a registry that lags the same deadline as everything else. */
    struct rpal_conn *conn;
    struct timespec start, now, nap = {.tv_nsec = 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int rc = rpal_request_service(ready.service, &conn);
        if (rc == 0)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (rc != -ENOENT || ms >= LAT_TIMEOUT_MS)
            die("RPAL: rpal_request_service(%s): %s", ready.service, strerror(-rc));
        nanosleep(&nap, NULL);
    }

    const uint64_t total = lat_warmup(o->messages) + o->messages;
    struct rpal_msg req, reply;
    memset(&req, 0, sizeof req);
    for (uint64_t i = 0; i < total; i++) {
        if (o->size >= 16)
            req.words[1] = i;
        req.words[0] = lat_tsc();
        int rc = rpal_call(conn, &req, &reply, LAT_TIMEOUT_MS);
        if (rc == -ECONNRESET)
            die("RPAL: the server went away at message %llu (see its messages above)",
                (unsigned long long)i);
        if (rc < 0)
            die("RPAL: rpal_call, message %llu: %s", (unsigned long long)i, strerror(-rc));
        if (reply.data)
            rpal_release(conn, &reply);
    }
    *have_stats = rpal_conn_stats(conn, st) == 0;
    recv_record(ctl, LAT_RESULT, r, sizeof *r, "RPAL result");
    rpal_check(rpal_release_service(conn), "rpal_release_service");
    rpal_check(rpal_exit(), "rpal_exit");
}

/* Waits for the server to exit after the control socket closed. */
static void reap_server(void)
{
    if (g_child <= 0)
        return;
    int pidfd = (int)syscall(SYS_pidfd_open, g_child, 0);
    if (pidfd >= 0) {
        struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
        int n;
        do
            n = poll(&pfd, 1, LAT_TIMEOUT_MS);
        while (n < 0 && errno == EINTR);
        close(pidfd);
        if (n == 0)
            die("the server did not exit within %d ms", LAT_TIMEOUT_MS);
    }
    int status;
    if (waitpid(g_child, &status, 0) != g_child)
        die("waitpid: %s", strerror(errno));
    g_child = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char why[64];
        describe_exit(status, why, sizeof why);
        die("the server ended with %s", why);
    }
}

int main(int argc, char **argv)
{
    struct client_opts o;
    parse_args(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);

    double ghz = check_tsc();
    choose_cpus(&o);

    int ctl;
    if (o.spawn) {
        spawn_server(&o);
        ctl = connect_server(g_sock, false);
    } else {
        if (o.socket_path)
            snprintf(g_sock, sizeof g_sock, "%s", o.socket_path);
        else if (lat_default_socket(g_sock, sizeof g_sock) < 0)
            usage_error("default socket path too long; use --socket");
        ctl = connect_server(g_sock, true);
    }
    set_timeouts(ctl);
    int rc = lat_pin(o.cpu_client);
    if (rc < 0)
        die("cannot pin to CPU %d: %s", o.cpu_client, strerror(-rc));

    struct lat_hello hello;
    recv_record(ctl, LAT_HELLO, &hello, sizeof hello, "greeting");
    check_hello(&hello, &o);

    char server[48];
    if (o.spawn && o.cpu_server >= 0)
        snprintf(server, sizeof server, "on CPU %d (pid %d)", o.cpu_server, (int)hello.pid);
    else
        snprintf(server, sizeof server, "%s (pid %d)", o.spawn ? "not pinned" : "as started",
                 (int)hello.pid);
    char client[24] = "not pinned";
    if (o.cpu_client >= 0)
        snprintf(client, sizeof client, "on CPU %d", o.cpu_client);
    printf("# %llu messages of %u bytes after %llu warm-up, ping-pong; client %s, server %s\n",
           (unsigned long long)o.messages, o.size, (unsigned long long)hello.warmup, client,
           server);
    printf("# one-way latency = server TSC on receipt - client TSC before send; "
           "TSC about %.2f GHz\n", ghz);

    struct lat_result epoll_r = {0}, rpal_r = {0};
    if (o.runs & LAT_RUN_EPOLL) {
        run_epoll(ctl, &o, &epoll_r);
        print_result("EPOLL", &o, &epoll_r);
    }
    if (o.runs & LAT_RUN_RPAL) {
        struct rpal_conn_stats st;
        bool have_stats;
        run_rpal(ctl, &o, &rpal_r, &st, &have_stats);
        if (o.no_spin)
            printf("# RPAL (spin off): rpal_set_spin_ns(0) in both processes, every wait "
                   "parks: this measures the wake-up path\n");
        print_result("RPAL", &o, &rpal_r);
        if (have_stats)
            printf("# RPAL client, waits for a reply: %llu ended spinning, %llu parked; "
                   "%llu wake-ups sent\n",
                   (unsigned long long)st.spins, (unsigned long long)st.parks,
                   (unsigned long long)st.wakeups);
    }
    if (o.runs == (LAT_RUN_EPOLL | LAT_RUN_RPAL) && rpal_r.total > 0)
        printf("RPAL/EPOLL average ratio: 1:%.1f\n",
               ((double)epoll_r.total / (double)epoll_r.count) /
                   ((double)rpal_r.total / (double)rpal_r.count));

    close(ctl);
    reap_server();
    cleanup();
    return 0;
}
