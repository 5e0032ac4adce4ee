/* SPDX-License-Identifier: MIT */
/*
 * latency_common.c - helpers shared by rpal-latency and rpal-latency-server:
 * number parsing, CPU pinning, exact reads and writes on the control socket,
 * and the summary (sort, total, percentiles) of a run. See latency_common.h
 * for the method.
 */
#include "latency_common.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool lat_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    bool digit = false;
    for (const char *p = s; *p; p++) {
        if (*p == ',' || *p == '_') {
            if (!digit)
                return false;
            continue;
        }
        if (*p < '0' || *p > '9')
            return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
        digit = true;
    }
    if (!digit || v < min || v > max)
        return false;
    *out = v;
    return true;
}

int lat_default_socket(char *buf, size_t size)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    int n = dir && dir[0] ? snprintf(buf, size, "%s/rpal-latency.sock", dir)
                          : snprintf(buf, size, "/tmp/rpal-latency-%u.sock", (unsigned)getuid());
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int lat_pin(int cpu)
{
    if (cpu < 0)
        return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : -errno;
}

int lat_read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n == 0) {
            return -EPIPE;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return -ETIMEDOUT; /* SO_RCVTIMEO expired */
        } else if (errno != EINTR) {
            return -errno;
        }
    }
    return 0;
}

int lat_write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n >= 0) {
            p += n;
            len -= (size_t)n;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return -ETIMEDOUT; /* SO_SNDTIMEO expired */
        } else if (errno != EINTR) {
            return -errno;
        }
    }
    return 0;
}

int lat_send_record(int fd, uint32_t type, const void *body, size_t len)
{
    struct lat_record r;
    memset(&r, 0, sizeof r);
    r.magic = LAT_MAGIC;
    r.type = type;
    if (body)
        memcpy(&r.u, body, len < sizeof r.u ? len : sizeof r.u);
    return lat_write_full(fd, &r, sizeof r);
}

int lat_recv_record(int fd, uint32_t type, void *body, size_t len)
{
    struct lat_record r;
    int rc = lat_read_full(fd, &r, sizeof r);
    if (rc < 0)
        return rc;
    if (r.magic != LAT_MAGIC || r.type != type)
        return -EPROTO;
    if (body)
        memcpy(body, &r.u, len < sizeof r.u ? len : sizeof r.u);
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted s[0..n), per_mille in 1..1000. */
static int64_t rank(const int64_t *s, uint64_t n, uint64_t per_mille)
{
    uint64_t k = (n * per_mille + 999) / 1000;
    return s[k > 0 ? k - 1 : 0];
}

void lat_summarise(int64_t *samples, uint64_t n, struct lat_result *r)
{
    memset(r, 0, sizeof *r);
    r->count = n;
    if (n == 0)
        return;
    for (uint64_t i = 0; i < n; i++) {
        r->total += samples[i];
        if (samples[i] < 0)
            r->negative++;
    }
    qsort(samples, n, sizeof *samples, cmp_i64);
    r->min = samples[0];
    r->p50 = rank(samples, n, 500);
    r->p90 = rank(samples, n, 900);
    r->p99 = rank(samples, n, 990);
    r->p999 = rank(samples, n, 999);
    r->max = samples[n - 1];
}
