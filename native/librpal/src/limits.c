/* SPDX-License-Identifier: MIT */
/*
 * What a server keeps for itself when clients pile up: a share of its arena
 * for messages, and a reserve of file descriptors for the rest of the
 * process.
 *
 * Arena: every connection, at either end, holds one block of its owner's
 * arena (its struct rpal_conn_shm and the two rings it publishes: 64 KiB
 * with the default 256 entries). Blocks of accepted connections may take at
 * most half of the arena (RPAL_CONN_ARENA_SHARE); a client past that is
 * refused with -ENOSPC, so that the clients already connected can still be
 * answered with payloads. A client's own connections are not capped: it
 * chose to make them, and it fails its own connect (-ENOMEM) when the arena
 * is really full.
 *
 * File descriptors: an accepted client costs the server two fds for as long
 * as it stays (its socket and its pidfd) and two more while its handshake
 * runs (the arena fd it sends, the registry file checked for its slot). A
 * server that accepted until the process had no fd left would leave the
 * rest of the process (a managed runtime creating a thread, a log sink
 * opening stderr) without one, and a client whose hello arrives then has its
 * SCM_RIGHTS truncated. So a client is refused with -EMFILE while fewer than
 * the reserve plus its own needs are free: the reserve is an eighth of
 * RLIMIT_NOFILE, at most RPAL_FD_RESERVE_MAX.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* ------------------------------------------------------------------- arena */

bool limits_take_conn_bytes(uint64_t bytes, bool capped)
{
    uint64_t cap = g_rt.opt.arena_size / RPAL_CONN_ARENA_SHARE;
    uint64_t used = atomic_load_explicit(&g_rt.conn_bytes, memory_order_relaxed);
    do {
        if (capped && (used > cap || bytes > cap - used))
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&g_rt.conn_bytes, &used, used + bytes,
                                                    memory_order_relaxed, memory_order_relaxed));
    return true;
}

void limits_give_conn_bytes(uint64_t bytes)
{
    atomic_fetch_sub_explicit(&g_rt.conn_bytes, bytes, memory_order_relaxed);
}

/* --------------------------------------------------------------------- fds */

static int fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT_MAX)
        return INT_MAX;
    return (int)rl.rlim_cur;
}

int limits_fd_reserve(int limit)
{
    int r = limit / 8;
    return r < RPAL_FD_RESERVE_MAX ? r : RPAL_FD_RESERVE_MAX;
}

/* The size of this process's fd table (FDSize in /proc/self/status): no fd
 * is open at or above it, so it bounds the count from above. A few
 * microseconds; -1 when it cannot be read. */
static int fd_table_size(void)
{
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    const char *p = strstr(buf, "\nFDSize:");
    return p ? atoi(p + 8) : -1;
}

/* The fds open in this process (entries of /proc/self/fd, less the one that
 * reads them). Costs about 0.3 us per open fd, so only near the limit.
 * -EMFILE when the directory cannot even be opened for want of an fd, -1
 * when it cannot be read for another reason. */
static int fd_count(void)
{
    int fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == EMFILE || errno == ENFILE ? -EMFILE : -1;
    char buf[16384] __attribute__((aligned(8)));
    int count = 0;
    long n;
    while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < n;) {
            /* struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name */
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16, sizeof reclen);
            if (buf[off + 19] != '.')
                count++;
            off += reclen;
        }
    }
    close(fd);
    return n < 0 ? -1 : count - 1;
}

int limits_fd_room(int need, int *open_out, int *limit_out)
{
    int limit = fd_limit();
    int want = need + limits_fd_reserve(limit);
    *limit_out = limit;
    *open_out = -1;
    int size = fd_table_size();
    if (size >= 0 && (int64_t)size + want <= limit)
        return 0;
    int open_fds = fd_count();
    if (open_fds == -EMFILE) {
        *open_out = limit;
        return -EMFILE;
    }
    if (open_fds < 0)
        return 0; /* no /proc: cannot tell; accept4() and recvmsg() still report EMFILE */
    *open_out = open_fds;
    return (int64_t)open_fds + want <= limit ? 0 : -EMFILE;
}

bool limits_fds_exhausted(int fd)
{
    int probe = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (probe >= 0) {
        close(probe);
        return false;
    }
    return errno == EMFILE;
}
