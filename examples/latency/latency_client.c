/* SPDX-License-Identifier: MIT */
/*
 * rpal-latency - the seed's experiment: one-way latency of small messages
 * between two processes, over a Unix socket with epoll (EPOLL) and over RPAL,
 * measured against the limit of the two CPUs (FLOOR).
 *
 * The client starts rpal-latency-server (beside its own executable) as a
 * child process, pins itself and the server to two CPUs, and runs ping-pong:
 * it writes the TSC into message i just before sending it, the server takes
 * the TSC on receipt and keeps the difference, acknowledges, and only then is
 * message i+1 sent, so no message ever queues. 1% of the messages (at least
 * 1000) warm up first and are not counted. FLOOR runs first (the TSC into a
 * shared cache line, a sequence number as the doorbell, both sides spinning,
 * the server's ack written into the same line), EPOLL second (write() of the
 * message, read() of a 1-byte ack), RPAL third (rpal_call() with the TSC in
 * words[0], an empty rpal_reply() as the ack). The server sorts the
 * latencies and sends back the total and the percentiles; the client prints
 * them in the seed's format. The two CPUs' distance on this machine's host
 * changes within minutes, so when both FLOOR and RPAL run, they take turns
 * in blocks after EPOLL (LAT_BLOCKS), and RPAL/FLOOR is the median of the
 * blocks' ratios. The lines:
 *   EPOLL: Message length: 32 bytes, Total TSC cycles: T, Message count: N,
 *          Average latency: A cycles                          (one line)
 * Lines starting with '#' are notes.
 *
 * Paced mode (--gap-us) asks what a call costs when calls do not come back
 * to back: for each gap, the client sleeps that long (an absolute
 * clock_nanosleep from the end of the previous call) before each call, times
 * the round trip itself with the TSC, and both processes measure their CPU
 * time over the counted calls; the server sends its own back. FLOOR is not
 * paced: two spinning CPUs cost the whole gap by construction. The gaps run
 * in rounds (--rounds), each gap on EPOLL and on RPAL in turn, and a row
 * pools its rounds.
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
#include <sys/mman.h>
#include <sys/prctl.h>
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
    uint32_t runs;     /* the selection, as the server is told it; a paced
                          session leaves FLOOR out on both sides */
    bool floor_asked;  /* --floor or --floor-only given */
    uint32_t gaps_n;   /* paced mode when > 0 */
    uint64_t gaps[LAT_PACED_MAX_GAPS]; /* microseconds */
    uint64_t calls;    /* counted calls per gap, before the cap */
    uint32_t rounds;   /* paced: the rounds a gap's calls are shared among */
    const char *json_path;
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
static const char *g_json_path; /* --json, removed unless it was written */

static void cleanup(void)
{
    if (g_json_path) {
        unlink(g_json_path);
        g_json_path = NULL;
    }
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
    if (g_json_path)
        unlink(g_json_path);
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
            "cycles: one shared cache line both sides spin on (FLOOR, the limit of the two\n"
            "CPUs) first, a Unix socket with epoll (EPOLL) second, RPAL third.\n"
            "  --messages N    counted messages per run (default 1,000,000; 1%% more, at\n"
            "                  least 1000, warm up first)\n"
            "  --size B        message length, 8..32 bytes (default 32): the bytes EPOLL\n"
            "                  writes; an RPAL message always carries its 4 inline words\n"
            "  --no-spin       RPAL with rpal_set_spin_ns(0) in both processes: every wait\n"
            "                  parks, so the wake-up path is measured\n"
            "  --cpus A,B      pin the client to CPU A and the server to CPU B (default:\n"
            "                  the last two CPUs this process may use)\n"
            "  --floor-only    only the FLOOR run\n"
            "  --epoll-only    only the EPOLL run\n"
            "  --rpal-only     only the RPAL run\n"
            "  --floor         FLOOR too (with --epoll-only or --rpal-only; in the default)\n"
            "  --no-floor      no FLOOR run (EPOLL and RPAL, as before FLOOR existed)\n"
            "Paced mode: round trip and CPU per call when calls are spaced out (RPAL with\n"
            "the library's spin policy: RPAL_SPIN_NS applies, --no-spin makes it 0)\n"
            "  --gap-us LIST   comma-separated gaps in microseconds, 0..100000 each (up to\n"
            "                  64; 0 = back to back): the client sleeps the gap before\n"
            "                  every call; one PACED: row per transport and gap, EPOLL's\n"
            "                  then RPAL's. FLOOR is not paced\n"
            "  --calls N       counted calls per gap (default 2000; 5%%, at least 50, warm\n"
            "                  up first); cut for long gaps so that a row's sleeps add up\n"
            "                  to about 10 s, but never below 100\n"
            "  --rounds N      share each gap's calls among N rounds (default 4, up to\n"
            "                  100): each round runs every gap on EPOLL and on RPAL in\n"
            "                  turn, so that the machine's drift falls on both alike\n"
            "  --json PATH     also write the rows to PATH, a JSON array of objects\n"
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

/* --gap-us: comma-separated gaps. Not lat_parse_u64 on the whole list, which
 * takes commas as digit separators ("1,000"); each gap on its own. */
static void parse_gaps(const char *arg, struct client_opts *o)
{
    static const char want[] = "--gap-us wants a comma-separated list of up to 64 gaps in "
                               "microseconds, 0..100000 each (e.g. 0,10,50,200,1000)";
    const char *p = arg;
    o->gaps_n = 0;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char one[24];
        if (len == 0)
            usage_error("%s; '%s' has an empty one", want, arg);
        if (o->gaps_n == LAT_PACED_MAX_GAPS)
            usage_error("%s; '%s' has more", want, arg);
        snprintf(one, sizeof one, "%.*s", (int)len, p);
        if (len >= sizeof one || !lat_parse_u64(one, 0, LAT_PACED_MAX_GAP_US, &o->gaps[o->gaps_n]))
            usage_error("%s; '%.*s' in '%s' is not one", want, (int)len, p, arg);
        o->gaps_n++;
        if (!comma)
            return;
        p = comma + 1;
    }
}

static void parse_args(int argc, char **argv, struct client_opts *o)
{
    enum { O_MESSAGES = 256, O_SIZE, O_NO_SPIN, O_CPUS, O_FLOOR_ONLY, O_EPOLL_ONLY,
           O_RPAL_ONLY, O_FLOOR, O_NO_FLOOR, O_GAP_US, O_CALLS, O_ROUNDS, O_JSON, O_SERVER, O_NO_SPAWN,
           O_SOCKET, O_HELP };
    static const struct option longopts[] = {
        {"messages", required_argument, NULL, O_MESSAGES},
        {"size", required_argument, NULL, O_SIZE},
        {"no-spin", no_argument, NULL, O_NO_SPIN},
        {"cpus", required_argument, NULL, O_CPUS},
        {"floor-only", no_argument, NULL, O_FLOOR_ONLY},
        {"epoll-only", no_argument, NULL, O_EPOLL_ONLY},
        {"rpal-only", no_argument, NULL, O_RPAL_ONLY},
        {"floor", no_argument, NULL, O_FLOOR},
        {"no-floor", no_argument, NULL, O_NO_FLOOR},
        {"gap-us", required_argument, NULL, O_GAP_US},
        {"calls", required_argument, NULL, O_CALLS},
        {"rounds", required_argument, NULL, O_ROUNDS},
        {"json", required_argument, NULL, O_JSON},
        {"server", required_argument, NULL, O_SERVER},
        {"no-spawn", no_argument, NULL, O_NO_SPAWN},
        {"socket", required_argument, NULL, O_SOCKET},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->messages = LAT_DEFAULT_MESSAGES;
    o->size = LAT_DEFAULT_SIZE;
    o->calls = LAT_PACED_DEFAULT_CALLS;
    o->rounds = LAT_PACED_DEFAULT_ROUNDS;
    o->spawn = true;
    o->cpu_client = o->cpu_server = -1;
    struct lat_run_choice runs = {0};
    const char *conflict = NULL;
    bool messages_given = false, calls_given = false, rounds_given = false;
    uint64_t v;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_MESSAGES:
            if (!lat_parse_u64(optarg, 1, LAT_MAX_MESSAGES, &o->messages))
                usage_error("--messages wants a count from 1 to 100,000,000, not '%s'", optarg);
            messages_given = true;
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
        case O_FLOOR_ONLY:
            conflict = lat_choose_only(&runs, LAT_RUN_FLOOR);
            o->floor_asked = true;
            break;
        case O_EPOLL_ONLY:
            conflict = lat_choose_only(&runs, LAT_RUN_EPOLL);
            break;
        case O_RPAL_ONLY:
            conflict = lat_choose_only(&runs, LAT_RUN_RPAL);
            break;
        case O_FLOOR:
            conflict = lat_choose_floor(&runs, 1);
            o->floor_asked = true;
            break;
        case O_NO_FLOOR:
            conflict = lat_choose_floor(&runs, -1);
            break;
        case O_GAP_US:
            parse_gaps(optarg, o);
            break;
        case O_CALLS:
            if (!lat_parse_u64(optarg, 1, LAT_PACED_MAX_CALLS, &o->calls))
                usage_error("--calls wants a count from 1 to 1,000,000, not '%s'", optarg);
            calls_given = true;
            break;
        case O_ROUNDS: {
            uint64_t r;
            if (!lat_parse_u64(optarg, 1, LAT_PACED_MAX_ROUNDS, &r))
                usage_error("--rounds wants a count from 1 to %u, not '%s'",
                            LAT_PACED_MAX_ROUNDS, optarg);
            o->rounds = (uint32_t)r;
            rounds_given = true;
            break;
        }
        case O_JSON:
            o->json_path = optarg;
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
        if (conflict)
            usage_error("%s", conflict);
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    conflict = lat_chosen_runs(&runs, &o->runs);
    if (conflict)
        usage_error("%s", conflict);
    if (o->gaps_n > 0) {
        if (o->floor_asked)
            usage_error("FLOOR is not paced: --gap-us goes with the EPOLL and RPAL runs");
        if (messages_given)
            usage_error("--messages counts the latency runs; with --gap-us, --calls N "
                        "counts the calls of each gap");
    } else {
        if (calls_given)
            usage_error("--calls goes with --gap-us (--messages counts the latency runs)");
        if (rounds_given)
            usage_error("--rounds goes with --gap-us");
        if (o->json_path)
            usage_error("--json writes the rows of a paced run: it goes with --gap-us");
    }
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
    const char *run_args[2];
    int run_argc = lat_run_args(o->runs, run_args);
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
    for (int k = 0; k < run_argc; k++)
        argv[argc++] = (char *)run_args[k];
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

/* Ends the process when a record could not be read; rc 0 returns. */
static void record_failed(int rc, const char *what)
{
    if (rc == -EPIPE)
        die("%s: the server closed the connection (see its messages above)", what);
    if (rc == -EPROTO)
        die("%s: unexpected record from the server (a server from another build?)", what);
    if (rc < 0)
        die("%s: %s", what, strerror(-rc));
}

static void recv_record(int ctl, uint32_t type, void *body, size_t len, const char *what)
{
    record_failed(lat_recv_record(ctl, type, body, len), what);
}

/* The server's parameters must be ours (they differ only with --no-spawn). */
static void check_hello(const struct lat_hello *h, const struct client_opts *o)
{
    char diff[128] = "", theirs[32], ours[32];
    lat_run_names(h->runs, theirs, sizeof theirs);
    lat_run_names(o->runs, ours, sizeof ours);
    if (h->messages != o->messages)
        snprintf(diff, sizeof diff, "--messages %llu, here %llu",
                 (unsigned long long)h->messages, (unsigned long long)o->messages);
    else if (h->size != o->size)
        snprintf(diff, sizeof diff, "--size %u, here %u", h->size, o->size);
    else if (h->runs != o->runs)
        snprintf(diff, sizeof diff, "runs %s, here %s", theirs, ours);
    else if ((h->no_spin != 0) != o->no_spin)
        snprintf(diff, sizeof diff, "%s --no-spin, here %s", h->no_spin ? "with" : "without",
                 o->no_spin ? "with" : "without");
    else if (h->warmup != lat_warmup(o->messages))
        snprintf(diff, sizeof diff, "%llu warm-up messages (another build?)",
                 (unsigned long long)h->warmup);
    if (diff[0])
        die("the server (pid %d) was started with other options: %s; give both the same "
            "--messages, --size, --no-spin and run selection (--floor-only, --epoll-only, "
            "--rpal-only, --floor, --no-floor)", (int)h->pid, diff);
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

/* One transport on the client side. call() sends message seq, with the TSC
 * stamped into it last, just before the send, and returns once the server
 * acknowledged it: 0 or -errno. Each run sets its transport up, drives it
 * (run_latency() or run_paced()) and tears it down. */
struct transport {
    const char *name;
    uint32_t run;                /* its LAT_RUN_* bit */
    int (*call)(struct transport *t, uint64_t seq);
    uint32_t size;               /* --size */
    int ctl;                     /* EPOLL: the data path */
    struct rpal_conn *conn;      /* RPAL */
    struct rpal_msg req;         /* RPAL: the request, reused */
    struct lat_floor_line *line; /* FLOOR */
};

/* FLOOR: the message into the line, the doorbell last (a release: the
 * server reads the words only after it saw seq), then spin for the ack the
 * server writes into the same line. The TSC is read before the first store
 * into the line, as RPAL's is before rpal_call(): a store issued before it
 * would start taking the line from the server off the clock. */
static int call_floor(struct transport *t, uint64_t seq)
{
    struct lat_floor_line *line = t->line;
    uint64_t sent = lat_tsc();
    for (uint32_t k = 1; k < t->size / 8; k++)
        line->words[k] = seq;
    line->words[0] = sent;
    __atomic_store_n(&line->seq, seq + 1, __ATOMIC_RELEASE);
    return lat_spin_until(&line->ack, seq + 1, LAT_TIMEOUT_MS);
}

/* EPOLL: write() the message with the TSC in its first 8 bytes (and the
 * sequence number in the next 8 when it is long enough), block in read() for
 * the 1-byte ack. */
static int call_epoll(struct transport *t, uint64_t seq)
{
    uint64_t buf[LAT_MAX_SIZE / 8] = {0};
    char ack;
    buf[1] = seq; /* beyond t->size when the message is 8 bytes: not sent */
    buf[0] = lat_tsc();
    int rc = lat_write_full(t->ctl, buf, t->size);
    return rc < 0 ? rc : lat_read_full(t->ctl, &ack, 1);
}

/* RPAL: rpal_call() with the TSC in words[0] (and the sequence number in
 * words[1]); the empty reply is the ack. */
static int call_rpal(struct transport *t, uint64_t seq)
{
    struct rpal_msg reply;
    if (t->size >= 16)
        t->req.words[1] = seq;
    t->req.words[0] = lat_tsc();
    int rc = rpal_call(t->conn, &t->req, &reply, LAT_TIMEOUT_MS);
    if (rc == 0 && reply.data)
        rpal_release(t->conn, &reply);
    return rc;
}

static _Noreturn void call_failed(const struct transport *t, uint64_t seq, int rc)
{
    if (rc == -EPIPE || rc == -ECONNRESET)
        die("%s: the server went away at message %llu (see its messages above)", t->name,
            (unsigned long long)seq);
    if (rc == -ETIMEDOUT)
        die("%s: message %llu got no answer within %d ms (see the server's messages above)",
            t->name, (unsigned long long)seq, LAT_TIMEOUT_MS);
    die("%s: message %llu: %s", t->name, (unsigned long long)seq, strerror(-rc));
}

static void rpal_check(int rc, const char *what)
{
    if (rc < 0)
        die("RPAL: %s: %s", what, strerror(-rc));
}

/* The server created the line and passes it with LAT_FLOOR_READY. */
static void open_floor(int ctl, struct transport *t)
{
    int fd;
    record_failed(lat_recv_record_fd(ctl, LAT_FLOOR_READY, &fd), "FLOOR start");
    t->line = mmap(NULL, sizeof *t->line, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (t->line == MAP_FAILED)
        die("FLOOR: mmap of the server's line: %s", strerror(errno));
    close(fd);
}

static void close_floor(struct transport *t)
{
    munmap(t->line, sizeof *t->line);
    t->line = NULL;
}

static void open_rpal(int ctl, const struct client_opts *o, struct transport *t)
{
    struct lat_ready ready;
    recv_record(ctl, LAT_RPAL_READY, &ready, sizeof ready, "RPAL start");
    ready.service[RPAL_NAME_MAX] = '\0';

    rpal_check(rpal_init(NULL), "rpal_init");
    if (o->no_spin)
        rpal_check(rpal_set_spin_ns(0), "rpal_set_spin_ns");

    /* The server registered before it sent READY, so -ENOENT is not expected;
     * still, give a registry that lags the same deadline as everything else. */
    struct timespec start, now, nap = {.tv_nsec = 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int rc = rpal_request_service(ready.service, &t->conn);
        if (rc == 0)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (rc != -ENOENT || ms >= LAT_TIMEOUT_MS)
            die("RPAL: rpal_request_service(%s): %s", ready.service, strerror(-rc));
        nanosleep(&nap, NULL);
    }
    memset(&t->req, 0, sizeof t->req);
}

static void close_rpal(struct transport *t)
{
    rpal_check(rpal_release_service(t->conn), "rpal_release_service");
    rpal_check(rpal_exit(), "rpal_exit");
    t->conn = NULL;
}

/* A latency run: the warm-up, the counted messages, the server's summary. */
static void run_latency(int ctl, struct transport *t, const struct client_opts *o,
                        struct lat_result *r)
{
    const uint64_t total = lat_warmup(o->messages) + o->messages;
    for (uint64_t i = 0; i < total; i++) {
        int rc = t->call(t, i);
        if (rc < 0)
            call_failed(t, i, rc);
    }
    char what[32];
    snprintf(what, sizeof what, "%s result", t->name);
    recv_record(ctl, LAT_RESULT, r, sizeof *r, what);
}

/* One row of the paced table (and of --json). */
struct paced_row {
    const char *transport;
    uint64_t gap_us;
    uint64_t calls;
    double rtt_p50_us, rtt_p99_us;
    double cpu_client_us, cpu_server_us; /* per call */
    double slept_us; /* mean time from a reply to the next send: the gap as slept */
    double parked;   /* RPAL: share of the client's reply waits that parked; < 0 n/a */
};

/* The counted calls of one gap: --calls, cut so that warm-up and counted
 * calls sleep about LAT_PACED_ROW_US in all (a 10 ms gap: 950 calls, not
 * 2000), but not below LAT_PACED_MIN_CAPPED. */
static uint64_t paced_calls(uint64_t calls, uint64_t gap_us)
{
    if (gap_us == 0)
        return calls;
    uint64_t fit = LAT_PACED_ROW_US / gap_us; /* messages whose sleeps fit in a row */
    if (calls + lat_paced_warmup(calls) <= fit)
        return calls;
    uint64_t w = lat_paced_warmup(fit * 20 / 21);
    uint64_t cut = fit > w ? fit - w : 0;
    if (cut < LAT_PACED_MIN_CAPPED)
        cut = LAT_PACED_MIN_CAPPED;
    return cut < calls ? cut : calls;
}

static void add_us(struct timespec *t, uint64_t us)
{
    t->tv_sec += (time_t)(us / 1000000);
    t->tv_nsec += (long)(us % 1000000) * 1000;
    if (t->tv_nsec >= 1000000000) {
        t->tv_nsec -= 1000000000;
        t->tv_sec++;
    }
}

/* The sums of one part of a paced row (one gap on one transport in one
 * round), which a row pools over its rounds. */
struct paced_part {
    uint64_t calls;
    uint64_t cpu_client_ns, cpu_server_ns;
    uint64_t slept;         /* TSC cycles from a reply to the next send, summed */
    uint64_t spins, parks;  /* RPAL: how the client's reply waits ended */
};

/* One gap of a paced run on one transport, in one round. Before each call
 * the client sleeps until gap_us after the end of the previous one (an
 * absolute time, so an early wake-up sleeps again and the time the loop
 * itself takes is not added on top). The round trip (into rtt, calls of
 * them) is the client's TSC before the send to after the ack. The CPU window
 * of both processes opens at the end of the last warm-up call and closes at
 * the end of the last counted one: calls gaps and calls calls. Adds its sums
 * to part. */
static void paced_gap(int ctl, struct transport *t, uint64_t gap_us, uint64_t calls,
                      int64_t *rtt, struct paced_part *part)
{
    const uint64_t warmup = lat_paced_warmup(calls), total = warmup + calls;
    struct lat_segment seg = {.gap_us = gap_us, .warmup = warmup, .calls = calls,
                              .run = t->run};
    int rc = lat_send_record(ctl, LAT_SEGMENT, &seg, sizeof seg);
    if (rc < 0)
        die("%s: cannot announce the %llu us gap: %s", t->name, (unsigned long long)gap_us,
            strerror(-rc));

    struct rpal_conn_stats st0 = {0}, st1 = {0};
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    uint64_t cpu0 = 0, prev_end = 0, slept = 0;
    for (uint64_t i = 0; i < total; i++) {
        if (gap_us > 0) {
            add_us(&next, gap_us);
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
                ;
        }
        uint64_t t0 = lat_tsc();
        rc = t->call(t, i);
        uint64_t t1 = lat_tsc();
        if (rc < 0)
            call_failed(t, i, rc);
        if (gap_us > 0)
            clock_gettime(CLOCK_MONOTONIC, &next); /* the next gap starts now */
        if (i >= warmup) {
            rtt[i - warmup] = (int64_t)(t1 - t0);
            slept += t0 - prev_end;
        }
        prev_end = t1;
        if (i + 1 == warmup) {
            if (t->conn)
                rpal_conn_stats(t->conn, &st0);
            cpu0 = lat_cpu_ns();
        }
    }
    const uint64_t cpu = lat_cpu_ns() - cpu0;
    if (t->conn)
        rpal_conn_stats(t->conn, &st1);

    char what[48];
    snprintf(what, sizeof what, "%s CPU time, %llu us gap", t->name,
             (unsigned long long)gap_us);
    struct lat_cpu server;
    recv_record(ctl, LAT_CPU, &server, sizeof server, what);
    if (server.calls != calls)
        die("%s: the server counted %llu calls, here %llu", what,
            (unsigned long long)server.calls, (unsigned long long)calls);
    part->calls += calls;
    part->cpu_client_ns += cpu;
    part->cpu_server_ns += server.cpu_ns;
    part->slept += slept;
    part->spins += st1.spins - st0.spins;
    part->parks += st1.parks - st0.parks;
}

/* A row from the sums of its parts and its n round trips (sorted here). */
static void paced_row_of(const struct transport *t, uint64_t gap_us, const struct paced_part *p,
                         int64_t *rtt, double ghz, struct paced_row *row)
{
    struct lat_result r;
    lat_summarise(rtt, p->calls, &r);
    if (r.negative)
        warn("%s, %llu us gap: %llu round trips were negative: the TSC went backwards",
             t->name, (unsigned long long)gap_us, (unsigned long long)r.negative);
    const double cycles_per_us = ghz * 1000.0, n = (double)p->calls;
    *row = (struct paced_row){
        .transport = t->name,
        .gap_us = gap_us,
        .calls = p->calls,
        .rtt_p50_us = (double)r.p50 / cycles_per_us,
        .rtt_p99_us = (double)r.p99 / cycles_per_us,
        .cpu_client_us = (double)p->cpu_client_ns / 1000.0 / n,
        .cpu_server_us = (double)p->cpu_server_ns / 1000.0 / n,
        .slept_us = (double)p->slept / cycles_per_us / n,
        .parked = -1,
    };
    if (t->conn) {
        uint64_t waits = p->spins + p->parks;
        row->parked = waits ? (double)p->parks / (double)waits : 0;
    }
}

static void print_paced_header(void)
{
    printf("# PACED: %-9s %6s %7s %10s %10s %13s %13s %12s\n", "transport", "gap_us", "calls",
           "rtt_p50_us", "rtt_p99_us", "cpu_client_us", "cpu_server_us", "cpu_total_us");
}

static void print_paced_row(const struct paced_row *r)
{
    printf("PACED:   %-9s %6llu %7llu %10.3f %10.3f %13.3f %13.3f %12.3f\n", r->transport,
           (unsigned long long)r->gap_us, (unsigned long long)r->calls, r->rtt_p50_us,
           r->rtt_p99_us, r->cpu_client_us, r->cpu_server_us,
           r->cpu_client_us + r->cpu_server_us);
}

/* The paced runs: rounds of every gap, each gap on every transport in turn
 * (which goes first alternates from round to round), so that what the
 * machine does meanwhile falls on both alike; a gap's counted calls are
 * shared among the rounds, and a row pools its parts. Then the rows,
 * transport by transport, and notes on how the gaps were slept (and, for
 * RPAL, how the client waited). Returns the number of rows written to rows. */
static size_t run_paced(int ctl, struct transport **t, int nt, const struct client_opts *o,
                        double ghz, struct paced_row *rows)
{
    const uint32_t ng = o->gaps_n;
    struct paced_part parts[2][LAT_PACED_MAX_GAPS] = {{{0}}};
    int64_t *rtt[2][LAT_PACED_MAX_GAPS];
    uint64_t share[LAT_PACED_MAX_GAPS];
    for (uint32_t g = 0; g < ng; g++) {
        uint64_t calls = paced_calls(o->calls, o->gaps[g]);
        share[g] = (calls + o->rounds - 1) / o->rounds;
        if (calls != o->calls)
            printf("# %llu us gap: %llu calls, not %llu (a row's sleeps stop near %llu s)\n",
                   (unsigned long long)o->gaps[g], (unsigned long long)calls,
                   (unsigned long long)o->calls,
                   (unsigned long long)(LAT_PACED_ROW_US / 1000000));
        for (int k = 0; k < nt; k++) {
            rtt[k][g] = malloc(share[g] * o->rounds * sizeof(int64_t));
            if (!rtt[k][g])
                die("out of memory for %llu round trips", (unsigned long long)share[g]);
            memset(rtt[k][g], 0, share[g] * o->rounds * sizeof(int64_t));
        }
    }
    for (uint32_t r = 0; r < o->rounds; r++)
        for (uint32_t g = 0; g < ng; g++)
            for (int j = 0; j < nt; j++) {
                int k = (j + (int)r) % nt;
                paced_gap(ctl, t[k], o->gaps[g], share[g], rtt[k][g] + parts[k][g].calls,
                          &parts[k][g]);
            }
    size_t n = 0;
    for (int k = 0; k < nt; k++) {
        struct paced_row *mine = rows + n;
        for (uint32_t g = 0; g < ng; g++) {
            paced_row_of(t[k], o->gaps[g], &parts[k][g], rtt[k][g], ghz, &rows[n++]);
            print_paced_row(&rows[n - 1]);
            free(rtt[k][g]);
        }
        printf("# %s gaps as slept (mean from a reply to the next send, us):", t[k]->name);
        for (uint32_t g = 0; g < ng; g++)
            printf("%s %llu: %.2f", g ? "," : "", (unsigned long long)mine[g].gap_us,
                   mine[g].slept_us);
        printf("\n");
        if (t[k]->conn) {
            printf("# %s client waits for a reply that parked:", t[k]->name);
            for (uint32_t g = 0; g < ng; g++)
                printf("%s %llu: %.1f%%", g ? "," : "", (unsigned long long)mine[g].gap_us,
                       mine[g].parked * 100.0);
            printf("\n");
        }
    }
    fflush(stdout);
    return n;
}

/* --json: the rows as an array of objects, the field names of the table. */
static void write_json(FILE *f, const struct paced_row *rows, size_t n)
{
    fprintf(f, "[\n");
    for (size_t i = 0; i < n; i++) {
        const struct paced_row *r = &rows[i];
        fprintf(f,
                "  {\"transport\": \"%s\", \"gap_us\": %llu, \"calls\": %llu, "
                "\"rtt_p50_us\": %.3f, \"rtt_p99_us\": %.3f, \"cpu_client_us\": %.3f, "
                "\"cpu_server_us\": %.3f, \"cpu_total_us\": %.3f}%s\n",
                r->transport, (unsigned long long)r->gap_us, (unsigned long long)r->calls,
                r->rtt_p50_us, r->rtt_p99_us, r->cpu_client_us, r->cpu_server_us,
                r->cpu_client_us + r->cpu_server_us, i + 1 < n ? "," : "");
    }
    fprintf(f, "]\n");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* FLOOR and RPAL in turns (lat_blocks, as the server serves them): both warm
 * up, then each block on FLOOR and on RPAL; each block's p50 ratio into
 * ratios; then both runs' summaries over all blocks. */
static void run_interleaved(int ctl, struct transport *t[2], const struct client_opts *o,
                            uint32_t blocks, double *ratios, struct lat_result *r[2])
{
    const uint64_t warmup = lat_warmup(o->messages);
    for (int k = 0; k < 2; k++)
        for (uint64_t i = 0; i < warmup; i++) {
            int rc = t[k]->call(t[k], i);
            if (rc < 0)
                call_failed(t[k], i, rc);
        }
    char what[40];
    for (uint32_t b = 0; b < blocks; b++) {
        uint64_t from = lat_block_start(o->messages, blocks, b);
        uint64_t to = lat_block_start(o->messages, blocks, b + 1);
        struct lat_result block[2];
        for (int k = 0; k < 2; k++) {
            for (uint64_t i = warmup + from; i < warmup + to; i++) {
                int rc = t[k]->call(t[k], i);
                if (rc < 0)
                    call_failed(t[k], i, rc);
            }
            snprintf(what, sizeof what, "%s result of block %u", t[k]->name, b + 1);
            recv_record(ctl, LAT_RESULT, &block[k], sizeof block[k], what);
        }
        ratios[b] = block[0].p50 > 0 ? (double)block[1].p50 / (double)block[0].p50 : 0;
    }
    for (int k = 0; k < 2; k++) {
        snprintf(what, sizeof what, "%s result", t[k]->name);
        recv_record(ctl, LAT_RESULT, r[k], sizeof *r[k], what);
    }
}

/* The seed's experiment: FLOOR, EPOLL, RPAL one-way latencies and ratios. */
static void latency_session(int ctl, const struct client_opts *o, uint64_t warmup, double ghz,
                            const char *client, const char *server)
{
    printf("# %llu messages of %u bytes after %llu warm-up, ping-pong; client %s, server %s\n",
           (unsigned long long)o->messages, o->size, (unsigned long long)warmup, client,
           server);
    printf("# one-way latency = server TSC on receipt - client TSC before send; "
           "TSC about %.2f GHz\n", ghz);

    const uint32_t blocks = lat_blocks(o->runs, false, o->messages);
    struct lat_result floor_r = {0}, epoll_r = {0}, rpal_r = {0};
    struct transport floor_t = {.name = "FLOOR", .call = call_floor, .size = o->size};
    struct transport rpal_t = {.name = "RPAL", .call = call_rpal, .size = o->size};
    double ratios[LAT_BLOCKS];
    if (o->runs & LAT_RUN_FLOOR) {
        open_floor(ctl, &floor_t);
        if (!blocks) {
            run_latency(ctl, &floor_t, o, &floor_r);
            close_floor(&floor_t);
        }
    }
    if (o->runs & LAT_RUN_EPOLL) {
        struct transport t = {.name = "EPOLL", .call = call_epoll, .size = o->size,
                              .ctl = ctl};
        run_latency(ctl, &t, o, &epoll_r);
    }
    struct rpal_conn_stats st;
    bool have_stats = false;
    if (o->runs & LAT_RUN_RPAL) {
        open_rpal(ctl, o, &rpal_t);
        if (blocks) {
            run_interleaved(ctl, (struct transport *[2]){&floor_t, &rpal_t}, o, blocks, ratios,
                            (struct lat_result *[2]){&floor_r, &rpal_r});
            close_floor(&floor_t);
        } else {
            run_latency(ctl, &rpal_t, o, &rpal_r);
        }
        have_stats = rpal_conn_stats(rpal_t.conn, &st) == 0;
        close_rpal(&rpal_t);
    }

    if (o->runs & LAT_RUN_FLOOR) {
        printf("# FLOOR: one shared cache line, both sides spinning on it: the limit of "
               "these two CPUs\n");
        print_result("FLOOR", o, &floor_r);
    }
    if (o->runs & LAT_RUN_EPOLL)
        print_result("EPOLL", o, &epoll_r);
    if (o->runs & LAT_RUN_RPAL) {
        if (o->no_spin)
            printf("# RPAL (spin off): rpal_set_spin_ns(0) in both processes, every wait "
                   "parks: this measures the wake-up path\n");
        print_result("RPAL", o, &rpal_r);
        if (have_stats)
            printf("# RPAL client, waits for a reply: %llu ended spinning, %llu parked; "
                   "%llu wake-ups sent\n",
                   (unsigned long long)st.spins, (unsigned long long)st.parks,
                   (unsigned long long)st.wakeups);
    }
    if ((o->runs & (LAT_RUN_EPOLL | LAT_RUN_RPAL)) == (LAT_RUN_EPOLL | LAT_RUN_RPAL) &&
        rpal_r.total > 0)
        printf("RPAL/EPOLL average ratio: 1:%.1f\n",
               ((double)epoll_r.total / (double)epoll_r.count) /
                   ((double)rpal_r.total / (double)rpal_r.count));
    if (blocks) {
        printf("# RPAL/FLOOR p50 ratio of each block (FLOOR and RPAL take turns in %u blocks "
               "of about %llu messages, so that each pair shares the CPUs' placement of its "
               "moment):", blocks, (unsigned long long)(o->messages / blocks));
        for (uint32_t b = 0; b < blocks; b++)
            printf(" %.2f", ratios[b]);
        printf("; the ratio below is their median\n");
        qsort(ratios, blocks, sizeof *ratios, cmp_double);
        double median = blocks % 2 ? ratios[blocks / 2]
                                   : (ratios[blocks / 2 - 1] + ratios[blocks / 2]) / 2;
        if (floor_r.p50 > 0)
            printf("RPAL/FLOOR p50 ratio: %.1f\n", median);
        else
            warn("FLOOR p50 is %lld cycles: no RPAL/FLOOR ratio", (long long)floor_r.p50);
    }
}

/* Paced mode: EPOLL then RPAL, every gap on each, one row per pair. */
static void paced_session(int ctl, const struct client_opts *o, double ghz, FILE *json,
                          const char *client, const char *server)
{
    if (ghz <= 0)
        die("the TSC rate is unknown: paced mode cannot report microseconds");
    /* The default timer slack (50 us) would stretch every sleep by up to
     * that much: the gap is what this mode varies. */
    if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) < 0)
        warn("PR_SET_TIMERSLACK: %s: sleeps may overshoot by up to 50 us", strerror(errno));
    printf("# paced: up to %llu calls per gap after 5%% warm-up (at least 50), %u-byte "
           "messages; client %s, server %s\n",
           (unsigned long long)o->calls, o->size, client, server);
    printf("# rtt = client TSC before the send to after the reply, TSC about %.3f GHz; "
           "cpu = each process's CPU time over the counted calls and their gaps, per call\n",
           ghz);
    if (o->runs & LAT_RUN_RPAL) {
        const char *spin = getenv("RPAL_SPIN_NS");
        if (o->no_spin)
            printf("# RPAL: spin budget 0 (--no-spin): every wait parks\n");
        else
            printf("# RPAL: the library's spin policy, %s%s\n",
                   spin ? "RPAL_SPIN_NS=" : "default budget", spin ? spin : "");
    }
    if ((o->runs & (LAT_RUN_EPOLL | LAT_RUN_RPAL)) == (LAT_RUN_EPOLL | LAT_RUN_RPAL))
        printf("# %u round%s: each round runs every gap on EPOLL and on RPAL, in turn (which "
               "goes first alternates), so that what the machine does meanwhile falls on both "
               "alike; a row pools its rounds\n", o->rounds, o->rounds == 1 ? "" : "s");
    else
        printf("# %u round%s of every gap; a row pools its rounds\n", o->rounds,
               o->rounds == 1 ? "" : "s");
    print_paced_header();

    struct transport epoll_t = {.name = "EPOLL", .run = LAT_RUN_EPOLL, .call = call_epoll,
                                .size = o->size, .ctl = ctl};
    struct transport rpal_t = {.name = "RPAL", .run = LAT_RUN_RPAL, .call = call_rpal,
                               .size = o->size};
    struct transport *t[2];
    int nt = 0;
    if (o->runs & LAT_RUN_EPOLL)
        t[nt++] = &epoll_t;
    if (o->runs & LAT_RUN_RPAL) {
        open_rpal(ctl, o, &rpal_t);
        t[nt++] = &rpal_t;
    }
    struct paced_row rows[2 * LAT_PACED_MAX_GAPS];
    size_t n = run_paced(ctl, t, nt, o, ghz, rows);
    if (o->runs & LAT_RUN_RPAL)
        close_rpal(&rpal_t);

    if (json) {
        write_json(json, rows, n);
        bool failed = ferror(json) != 0;
        if (fclose(json) != 0 || failed)
            die("cannot write %s: %s", o->json_path, strerror(errno));
        g_json_path = NULL; /* written: keep it */
    }
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
    /* Opened now, so that a bad path fails before the runs, not after. */
    FILE *json = NULL;
    if (o.json_path) {
        json = fopen(o.json_path, "w");
        if (!json)
            die("cannot write %s: %s", o.json_path, strerror(errno));
        g_json_path = o.json_path;
    }

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

    int transports = !!(o.runs & LAT_RUN_EPOLL) + !!(o.runs & LAT_RUN_RPAL);
    struct lat_mode mode = {.paced = o.gaps_n > 0,
                            .segments = o.gaps_n * o.rounds * (uint32_t)transports};
    rc = lat_send_record(ctl, LAT_MODE, &mode, sizeof mode);
    if (rc < 0)
        die("cannot tell the server the mode: %s", strerror(-rc));
    if (mode.paced)
        paced_session(ctl, &o, ghz, json, client, server);
    else
        latency_session(ctl, &o, hello.warmup, ghz, client, server);

    close(ctl);
    reap_server();
    cleanup();
    return 0;
}
