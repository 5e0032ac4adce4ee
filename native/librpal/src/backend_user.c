/* SPDX-License-Identifier: MIT */
/*
 * The user-space backend: works on every stock kernel.
 *  - the slot window is one PROT_NONE reservation at a fixed address;
 *  - our arena is a sealed memfd mapped read-write at our slot; a peer's
 *    arena is its memfd mapped read-only at the peer's slot;
 *  - a parked receiver (park_set: epoll on its set's sockets) is woken by
 *    a byte on the connection's socket (sent with MSG_DONTWAIT: a peer
 *    cannot make it block), a parked caller or producer (wait_word) through
 *    a shared futex on a ring position.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static char *slot_addr(const struct rpal_runtime *rt, int slot)
{
    return (char *)(uintptr_t)(rt->opt.window_base + (uint64_t)slot * rt->opt.slot_size);
}

static uint64_t window_size(const struct rpal_runtime *rt)
{
    return (uint64_t)rt->opt.slot_count * rt->opt.slot_size;
}

/* Puts [addr, addr + len) back to the reserved, inaccessible state. */
static int reserve(void *addr, uint64_t len)
{
    void *p = mmap(addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
                   -1, 0);
    return p == MAP_FAILED ? -errno : 0;
}

static int user_start(struct rpal_runtime *rt)
{
    int rc;
    void *base = (void *)(uintptr_t)rt->opt.window_base;
    void *w = mmap(base, window_size(rt), PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (w == MAP_FAILED) {
        rc = errno == EEXIST ? -EADDRINUSE : -errno;
        rpal_log(LOG_ERR, RPAL_LOG_WINDOW,
                 "cannot reserve the slot window at %p (%s)", base, strerror(-rc));
        return rc;
    }
    if (w != base) { /* a kernel without MAP_FIXED_NOREPLACE treats it as a hint */
        munmap(w, window_size(rt));
        rpal_log(LOG_ERR, RPAL_LOG_WINDOW, "the slot window at %p is in use", base);
        return -EADDRINUSE;
    }
    rt->window = w;
    if ((rc = registry_take_slot(rt)) < 0)
        goto fail;

    rt->arena_fd = memfd_create("rpal-arena", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (rt->arena_fd < 0) {
        rc = -errno;
        goto fail;
    }
    if (ftruncate(rt->arena_fd, (off_t)rt->opt.arena_size) < 0) {
        rc = -errno;
        goto fail;
    }
    /* Peers get a read-only open file description: they can map the arena
     * for reading only, never mprotect it writable. */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", rt->arena_fd);
    rt->arena_ro_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (rt->arena_ro_fd < 0) {
        rc = -errno;
        goto fail;
    }
    char *a = mmap(slot_addr(rt, rt->slot), rt->opt.arena_size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_FIXED, rt->arena_fd, 0);
    if (a == MAP_FAILED) {
        rc = -errno;
        goto fail;
    }
    rt->arena = a;
    /* Seal only now: FUTURE_WRITE keeps our mapping writable but refuses any
     * later writable mapping or write(), so a peer that reopens the memfd
     * through /proc read-write still cannot write our arena. */
    if (fcntl(rt->arena_fd, F_ADD_SEALS,
              F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) < 0) {
        rc = -errno;
        goto fail;
    }
    struct rpal_arena_header *h = (struct rpal_arena_header *)a;
    h->magic = RPAL_MAGIC;
    h->protocol = RPAL_PROTOCOL;
    h->pid = rt->pid;
    h->slot = rt->slot;
    h->size = rt->opt.arena_size;
    if ((rc = arena_setup(a, rt->opt.arena_size)) < 0)
        goto fail;
    return 0;
fail:
    rt->arena = NULL;
    if (rt->arena_ro_fd >= 0)
        close(rt->arena_ro_fd);
    if (rt->arena_fd >= 0)
        close(rt->arena_fd);
    rt->arena_fd = rt->arena_ro_fd = -1;
    munmap(rt->window, window_size(rt));
    rt->window = NULL;
    return rc;
}

static void user_stop(struct rpal_runtime *rt)
{
    arena_setup(NULL, 0); /* pointers into the old arena are now invalid */
    if (rt->window)
        munmap(rt->window, window_size(rt));
    rt->window = rt->arena = NULL;
    if (rt->arena_ro_fd >= 0)
        close(rt->arena_ro_fd);
    if (rt->arena_fd >= 0)
        close(rt->arena_fd);
    rt->arena_fd = rt->arena_ro_fd = -1;
}

static int user_map_peer(struct rpal_runtime *rt, int slot, int fd, uint64_t size)
{
    char *addr = slot_addr(rt, slot);
    void *p = mmap(addr, size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    if (p == MAP_FAILED)
        return -errno;
    /* whatever an earlier, larger arena left behind in this slot */
    if (size < rt->opt.slot_size)
        reserve(addr + size, rt->opt.slot_size - size);
    return 0;
}

static void user_retire_peer(struct rpal_runtime *rt, int slot, uint64_t size)
{
    /* The peer died: drop its pages now, but keep the range readable
     * (zeros) so a handler still reading a payload does not fault. */
    mmap(slot_addr(rt, slot), size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

static void user_unmap_peer(struct rpal_runtime *rt, int slot, uint64_t size)
{
    reserve(slot_addr(rt, slot), rt->opt.slot_size);
}

static void user_wake_receiver(struct rpal_conn *c)
{
    /* EAGAIN: the peer's queue is full of wake-ups already; EPIPE and
     * ECONNRESET: it is gone, which the death path handles */
    static const char bell = 0;
    if (send(c->fd, &bell, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN &&
        errno != EPIPE && errno != ECONNRESET)
        rpal_log(LOG_WARN, RPAL_LOG_WAKE_FAILED, "waking %s: %s", c->name, strerror(errno));
}

static void user_wake_word(const _Atomic uint32_t *word)
{
    /* not FUTEX_PRIVATE: the word is in a shared mapping, and waking only
     * needs read access to it */
    syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static int user_wait_word(const _Atomic uint32_t *word, uint32_t seen, int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    long rc = syscall(SYS_futex, word, FUTEX_WAIT, seen, &ts, NULL, 0);
    return rc < 0 ? -errno : 0;
}

/* The set's internal epoll fd watches the connections' sockets (wake-up bytes), their pidfds,
 * the user's own epoll fd and the set's eventfd: any of them ends the park. */
static int user_park_set(int wait_fd, struct epoll_event *ev, int max, int timeout_ms)
{
    int k = epoll_wait(wait_fd, ev, max, timeout_ms);
    return k < 0 ? -errno : k;
}

const struct rpal_backend rpal_backend_user = {
    .name = "user",
    .start = user_start,
    .stop = user_stop,
    .map_peer = user_map_peer,
    .retire_peer = user_retire_peer,
    .unmap_peer = user_unmap_peer,
    .wake_receiver = user_wake_receiver,
    .wake_word = user_wake_word,
    .wait_word = user_wait_word,
    .park_set = user_park_set,
};
