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
#include <sys/socket.h>
#include <time.h>
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

uint64_t lat_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int lat_spin_until(const uint64_t *word, uint64_t want, int timeout_ms)
{
    /* No clock read on the way in: a FLOOR round trip is a few hundred
     * cycles and the deadline matters only to a wait that has gone wrong. */
    int64_t deadline = -1;
    for (uint32_t n = 1;; n++) {
        if (__atomic_load_n(word, __ATOMIC_ACQUIRE) == want)
            return 0;
        _mm_pause();
        if ((n & 4095) == 0) {
            int64_t now = monotonic_ms();
            if (deadline < 0)
                deadline = now + timeout_ms;
            else if (now >= deadline)
                return -ETIMEDOUT;
            sched_yield();
        }
    }
}

const char *lat_choose_only(struct lat_run_choice *c, uint32_t run)
{
    if (c->only && c->only != run)
        return "--floor-only, --epoll-only and --rpal-only exclude each other";
    c->only = run;
    return NULL;
}

const char *lat_choose_floor(struct lat_run_choice *c, int add)
{
    if (c->floor && c->floor != add)
        return "--floor and --no-floor exclude each other";
    c->floor = add;
    return NULL;
}

const char *lat_chosen_runs(const struct lat_run_choice *c, uint32_t *runs)
{
    uint32_t r = c->only ? c->only : LAT_RUN_ALL;
    if (c->floor > 0)
        r |= LAT_RUN_FLOOR;
    else if (c->floor < 0)
        r &= ~LAT_RUN_FLOOR;
    if (r == 0)
        return "--floor-only and --no-floor exclude each other";
    *runs = r;
    return NULL;
}

int lat_run_args(uint32_t runs, const char *args[2])
{
    int n = 0;
    switch (runs & ~LAT_RUN_FLOOR) {
    case LAT_RUN_EPOLL | LAT_RUN_RPAL:
        if (!(runs & LAT_RUN_FLOOR))
            args[n++] = "--no-floor";
        return n;
    case LAT_RUN_EPOLL:
        args[n++] = "--epoll-only";
        break;
    case LAT_RUN_RPAL:
        args[n++] = "--rpal-only";
        break;
    default: /* FLOOR alone */
        args[n++] = "--floor-only";
        return n;
    }
    if (runs & LAT_RUN_FLOOR)
        args[n++] = "--floor";
    return n;
}

void lat_run_names(uint32_t runs, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s%s%s", runs & LAT_RUN_FLOOR ? "FLOOR" : "",
             runs & LAT_RUN_FLOOR && runs & ~LAT_RUN_FLOOR ? "+" : "",
             runs & LAT_RUN_EPOLL ? "EPOLL" : "",
             runs & LAT_RUN_EPOLL && runs & LAT_RUN_RPAL ? "+" : "",
             runs & LAT_RUN_RPAL ? "RPAL" : "");
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

int lat_send_record_fd(int fd, uint32_t type, int passed)
{
    struct lat_record r;
    memset(&r, 0, sizeof r);
    r.magic = LAT_MAGIC;
    r.type = type;
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct iovec iov = {.iov_base = &r, .iov_len = sizeof r};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &passed, sizeof passed);
    ssize_t n;
    do
        n = sendmsg(fd, &m, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
    /* The descriptor went with the first byte; the rest is plain bytes. */
    return lat_write_full(fd, (const char *)&r + n, sizeof r - (size_t)n);
}

int lat_recv_record_fd(int fd, uint32_t type, int *passed)
{
    struct lat_record r;
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct iovec iov = {.iov_base = &r, .iov_len = sizeof r};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
    ssize_t n;
    do
        n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
    if (n == 0)
        return -EPIPE;
    int got = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len == CMSG_LEN(sizeof(int)))
            memcpy(&got, CMSG_DATA(c), sizeof got);
    int rc = lat_read_full(fd, (char *)&r + n, sizeof r - (size_t)n);
    if (rc == 0 && (r.magic != LAT_MAGIC || r.type != type || got < 0 ||
                    (m.msg_flags & MSG_CTRUNC)))
        rc = -EPROTO;
    if (rc < 0) {
        if (got >= 0)
            close(got);
        return rc;
    }
    *passed = got;
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
