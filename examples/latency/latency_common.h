/* SPDX-License-Identifier: MIT */
/*
 * latency_common.h - what rpal-latency (the client) and rpal-latency-server
 * share: the TSC clock, the records they exchange over the control socket,
 * and small helpers.
 *
 * Method (the seed's experiment): one-way latency is the server's TSC when it
 * has received a message minus the TSC the client wrote into that message
 * just before it initiated the send. Both processes run on the same host, the
 * TSC is invariant and synchronised across CPUs, so the two readings are on
 * one clock. The runs are ping-pong (the client sends message i+1 only after
 * the server acknowledged message i), so no message ever waits in a queue.
 *
 * FLOOR is the same measurement without any transport: one shared cache line
 * (struct lat_floor_line) that both processes spin on, the physical limit of
 * the two pinned CPUs, so that every other run can say how far from it it is.
 *
 * Paced mode measures what one call costs when calls are spaced out: the
 * client sleeps a gap between calls, times each round trip itself, and both
 * processes report their CPU time over the counted calls (see
 * latency_client.c).
 *
 * The control socket is a Unix stream socket: the client connects, the
 * server answers with a HELLO record (its parameters), the client answers
 * with a MODE record (latency or paced), the EPOLL run uses that same socket
 * as its data path, and every run ends with a RESULT record from the server
 * (in paced mode, every gap with a CPU record). Records are raw structs: both
 * ends run on one host from one build.
 */
#ifndef RPAL_LATENCY_COMMON_H
#define RPAL_LATENCY_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <x86intrin.h>

#include "rpal.h"

#define LAT_MAGIC 0x3354414cu /* "LAT3" in memory; bump with the layout */
#define LAT_DEFAULT_MESSAGES 1000000ull
#define LAT_MAX_MESSAGES 100000000ull /* the server keeps 8 bytes per message */
#define LAT_DEFAULT_SIZE 32u
#define LAT_MIN_SIZE 8u               /* the TSC stamp */
#define LAT_MAX_SIZE 32u              /* RPAL_INLINE_WORDS * 8 */
#define LAT_DEFAULT_SERVICE "rpal-latency"
#define LAT_TIMEOUT_MS 10000          /* any single wait; a run never stalls that long */

/* Paced mode (--gap-us, --calls). */
#define LAT_PACED_DEFAULT_CALLS 2000ull
#define LAT_PACED_MAX_CALLS 1000000ull
#define LAT_PACED_MAX_GAPS 64u
#define LAT_PACED_MAX_GAP_US 100000ull   /* 100 ms: far below LAT_TIMEOUT_MS */
#define LAT_PACED_ROW_US 10000000ull     /* a gap's calls are cut so that its sleeps
                                            add up to 10 s at most ... */
#define LAT_PACED_MIN_CAPPED 100ull      /* ... but never below 100 counted calls */
#define LAT_PACED_DEFAULT_ROUNDS 4u      /* a gap's calls in turns of EPOLL and RPAL */
#define LAT_PACED_MAX_ROUNDS 100u

/* Which runs a session does, in this order. */
#define LAT_RUN_EPOLL 1u
#define LAT_RUN_RPAL 2u
#define LAT_RUN_FLOOR 4u
#define LAT_RUN_ALL (LAT_RUN_FLOOR | LAT_RUN_EPOLL | LAT_RUN_RPAL)

enum lat_record_type {
    LAT_HELLO = 1,   /* server -> client after accept */
    LAT_RESULT = 2,  /* server -> client at the end of a run */
    LAT_RPAL_READY = 3, /* server -> client: the RPAL service is registered,
                           lat_ready names it */
    LAT_MODE = 4,    /* client -> server after HELLO: lat_mode */
    LAT_SEGMENT = 5, /* client -> server before each gap of a paced run */
    LAT_CPU = 6,     /* server -> client after each gap of a paced run */
    LAT_FLOOR_READY = 7, /* server -> client: the FLOOR line's memfd rides
                            along (SCM_RIGHTS), no body */
};

/* Server parameters, sent in the HELLO record so the client can check them
 * against its own (they must match when the server was started by hand). */
struct lat_hello {
    uint64_t messages; /* counted messages per run */
    uint64_t warmup;   /* uncounted messages sent first */
    uint32_t size;     /* message length in bytes */
    uint32_t runs;     /* LAT_RUN_* bits */
    uint32_t no_spin;  /* 1: rpal_set_spin_ns(0) */
    int32_t pid;
};

/* The outcome of one run, computed by the server over the counted messages.
 * Latencies are TSC cycles. */
struct lat_result {
    int64_t total;    /* sum of the one-way latencies */
    uint64_t count;   /* counted messages */
    int64_t min;
    int64_t p50, p90, p99, p999;
    int64_t max;
    uint64_t negative; /* samples below zero (a TSC that is not synchronised) */
};

struct lat_ready {
    char service[RPAL_NAME_MAX + 1];
};

/* What the client runs; the server learns it here rather than from its
 * options, so a server started by hand serves either mode. */
struct lat_mode {
    uint32_t paced;    /* 0: one-way latency runs; 1: paced runs, FLOOR left out */
    uint32_t segments; /* paced: the segments, each opened by LAT_SEGMENT (every
                          gap of every transport, in each round) */
};

/* One gap of a paced run on one transport (run: LAT_RUN_EPOLL or
 * LAT_RUN_RPAL), in one round: warmup + calls messages follow, sequence
 * numbers from 0 again. The client cuts calls for long gaps
 * (LAT_PACED_ROW_US) and shares them among the rounds, so the server takes
 * the count from here. */
struct lat_segment {
    uint64_t gap_us;
    uint64_t warmup;
    uint64_t calls;
    uint32_t run;
    uint32_t reserved;
};

/* The server's CPU time over the counted calls of one gap: from the end of
 * the last warm-up message to the end of the last counted one (calls gaps
 * and calls messages), CLOCK_PROCESS_CPUTIME_ID. */
struct lat_cpu {
    uint64_t cpu_ns;
    uint64_t calls;
};

/* The FLOOR run's shared line: a memfd page the server creates and passes
 * to the client, used as one cache line. Message i is seq = i + 1.
 * Both processes write this line, never at the same time: the client only
 * after it saw its previous ack, the server only after it saw seq. */
struct lat_floor_line {
    /* Client writes (release, after words), server reads (acquire, then
     * words): the doorbell of message seq - 1. */
    uint64_t seq;
    /* Server writes (release, after it read words and took its TSC), client
     * reads (acquire): message ack - 1 was received. */
    uint64_t ack;
    /* The message, plain accesses ordered by seq and ack: words[0] the
     * client's TSC, the others the message number (--size bytes written). */
    uint64_t words[LAT_MAX_SIZE / 8];
} __attribute__((aligned(64)));

struct lat_record {
    uint32_t magic;
    uint32_t type;
    union {
        struct lat_hello hello;
        struct lat_result result;
        struct lat_ready ready;
        struct lat_mode mode;
        struct lat_segment segment;
        struct lat_cpu cpu;
    } u;
};

/* TSC read ordered against the surrounding code: the first lfence waits for
 * earlier instructions (the receive that just finished), the second keeps
 * later ones (the store into the message, the send) from starting before the
 * counter is read. */
static inline uint64_t lat_tsc(void)
{
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
}

/* When both FLOOR and RPAL run (latency mode), they take turns in this many
 * blocks of counted messages, after both warmed up: the two CPUs' distance
 * on this machine's host changes within minutes, so a ratio of runs made
 * apart says little, while each pair of blocks shares its minute. The server
 * sends each block's LAT_RESULT as it ends, then each run's over all its
 * blocks (FLOOR's first). */
#define LAT_BLOCKS 10u

/* The blocks of an interleaved FLOOR and RPAL session: 0 when not one. */
static inline uint32_t lat_blocks(uint32_t runs, bool paced, uint64_t messages)
{
    if (paced || (runs & (LAT_RUN_FLOOR | LAT_RUN_RPAL)) != (LAT_RUN_FLOOR | LAT_RUN_RPAL))
        return 0;
    return messages < LAT_BLOCKS ? (uint32_t)messages : LAT_BLOCKS;
}

/* Block b's counted messages: [lat_block_start(b), lat_block_start(b + 1)). */
static inline uint64_t lat_block_start(uint64_t messages, uint32_t blocks, uint32_t b)
{
    return messages / blocks * b + (b == blocks ? messages % blocks : 0);
}

/* Warm-up messages before a run: 1% of the counted ones, at least 1000. */
static inline uint64_t lat_warmup(uint64_t messages)
{
    uint64_t w = messages / 100;
    return w < 1000 ? 1000 : w;
}

/* Warm-up calls before each gap of a paced run: 5%, at least 50. */
static inline uint64_t lat_paced_warmup(uint64_t calls)
{
    uint64_t w = calls / 20;
    return w < 50 ? 50 : w;
}

/* This process's CPU time in ns (all threads). Not /proc/self/schedstat:
 * the kernel updates that only at ticks and context switches, so while a
 * process spins it lags by up to a tick, as much as a whole gap-0 row. */
uint64_t lat_cpu_ns(void);

/* Spins until *word (written by the other process) equals want, with pause
 * like the engine's waiters; the load is an acquire. Past the first few
 * thousand pauses it yields now and then (a peer that shares the CPU gets to
 * run) and gives up after timeout_ms. Returns 0 or -ETIMEDOUT. */
int lat_spin_until(const uint64_t *word, uint64_t want, int timeout_ms);

/* The run selection options, shared so that both programs spell it alike:
 * --floor-only/--epoll-only/--rpal-only pick one run, --floor adds FLOOR,
 * --no-floor drops it; nothing given: all three. */
struct lat_run_choice {
    uint32_t only; /* the LAT_RUN_* bit of an --X-only option, 0: none */
    int floor;     /* 1: --floor, -1: --no-floor, 0: neither */
};

/* Record one option. Return NULL, or why it contradicts an earlier one. */
const char *lat_choose_only(struct lat_run_choice *c, uint32_t run);
const char *lat_choose_floor(struct lat_run_choice *c, int add);

/* The LAT_RUN_* bits chosen into *runs; NULL, or why there are none. */
const char *lat_chosen_runs(const struct lat_run_choice *c, uint32_t *runs);

/* Options that choose runs (for the server's command line): up to two
 * pointers to static strings in args. Returns how many. */
int lat_run_args(uint32_t runs, const char *args[2]);

/* Names the runs, "FLOOR+EPOLL+RPAL", into buf. */
void lat_run_names(uint32_t runs, char *buf, size_t size);

/* Parses a decimal count in [min, max]; accepts 1000000, 1,000,000 and
 * 1_000_000. Returns false when s is not such a number. */
bool lat_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Writes the default control socket path, used when neither side is told
 * one: $XDG_RUNTIME_DIR/rpal-latency.sock, else /tmp/rpal-latency-UID.sock.
 * Returns 0 or -ENAMETOOLONG. */
int lat_default_socket(char *buf, size_t size);

/* Pins the calling thread to cpu (no-op for cpu < 0). Returns 0 or -errno. */
int lat_pin(int cpu);

/* Reads or writes exactly len bytes, retrying on EINTR and short transfers.
 * Returns 0, -errno, or -EPIPE when the peer closed the socket. */
int lat_read_full(int fd, void *buf, size_t len);
int lat_write_full(int fd, const void *buf, size_t len);

/* Sends or receives one record. lat_recv_record checks magic and type. */
int lat_send_record(int fd, uint32_t type, const void *body, size_t len);
int lat_recv_record(int fd, uint32_t type, void *body, size_t len);

/* The same with a file descriptor passed alongside (SCM_RIGHTS). The
 * received one is close-on-exec and the caller's; -EPROTO when it is
 * missing. */
int lat_send_record_fd(int fd, uint32_t type, int passed);
int lat_recv_record_fd(int fd, uint32_t type, int *passed);

/* Sorts the samples in place and fills r (total, percentiles). */
void lat_summarise(int64_t *samples, uint64_t n, struct lat_result *r);

#endif /* RPAL_LATENCY_COMMON_H */
