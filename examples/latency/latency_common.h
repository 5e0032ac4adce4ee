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
 * The control socket is a Unix stream socket: the client connects, the
 * server answers with a HELLO record (its parameters), the EPOLL run uses
 * that same socket as its data path, and every run ends with a RESULT record
 * from the server. Records are raw structs: both ends run on one host from
 * one build.
 */
#ifndef RPAL_LATENCY_COMMON_H
#define RPAL_LATENCY_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <x86intrin.h>

#include "rpal.h"

#define LAT_MAGIC 0x3154414cu /* "LAT1" in memory; bump with the layout */
#define LAT_DEFAULT_MESSAGES 1000000ull
#define LAT_MAX_MESSAGES 100000000ull /* the server keeps 8 bytes per message */
#define LAT_DEFAULT_SIZE 32u
#define LAT_MIN_SIZE 8u               /* the TSC stamp */
#define LAT_MAX_SIZE 32u              /* RPAL_INLINE_WORDS * 8 */
#define LAT_DEFAULT_SERVICE "rpal-latency"
#define LAT_TIMEOUT_MS 10000          /* any single wait; a run never stalls that long */

/* Which runs a session does. */
#define LAT_RUN_EPOLL 1u
#define LAT_RUN_RPAL 2u

enum lat_record_type {
    LAT_HELLO = 1,   /* server -> client after accept */
    LAT_RESULT = 2,  /* server -> client at the end of a run */
    LAT_RPAL_READY = 3, /* server -> client: the RPAL service is registered,
                           lat_ready names it */
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

struct lat_record {
    uint32_t magic;
    uint32_t type;
    union {
        struct lat_hello hello;
        struct lat_result result;
        struct lat_ready ready;
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

/* Warm-up messages before a run: 1% of the counted ones, at least 1000. */
static inline uint64_t lat_warmup(uint64_t messages)
{
    uint64_t w = messages / 100;
    return w < 1000 ? 1000 : w;
}

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

/* Sorts the samples in place and fills r (total, percentiles). */
void lat_summarise(int64_t *samples, uint64_t n, struct lat_result *r);

#endif /* RPAL_LATENCY_COMMON_H */
