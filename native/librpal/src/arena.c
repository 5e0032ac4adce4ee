/* SPDX-License-Identifier: MIT */
/*
 * The arena allocator: message buffers in this process's own arena, a buddy
 * allocator.
 *
 * Blocks are powers of two from 64 bytes (class 0) up, each aligned to its
 * size relative to the arena's start and starting with a 32-byte struct
 * rpal_buf header. At start the arena past its header page is cut into the
 * largest aligned blocks that fit. Allocation takes a free block of the
 * class, or splits a larger one (the upper halves go back on the lists).
 * Freeing merges a block with its buddy (offset ^ size) while the buddy is
 * free and of the same class, so freeing everything gives the big blocks
 * back. The buddy's start is always a block start: a larger block holding
 * the buddy would hold this block too.
 *
 * One mutex guards the lists. Only this process writes its arena, so
 * headers are trusted (peers can read them, never change them).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Small blocks freed recently are kept whole, by class, and handed out again
 * first: a call's payload is allocated and freed once per call, and a buddy
 * merge on each free and a split on each allocation touch one block header
 * per level (a 64-byte block in a 64 MiB arena: up to 20), which took a
 * 32-byte alloc-free pair from about 30 ns to 120 ns. A cached block is not
 * BUF_FREE, so no buddy merges with it; an allocation that finds no block
 * gives the cache back to the buddy lists and tries again. */
#define CACHE_CLASSES 7 /* 64 B to 4 KiB blocks */
#define CACHE_DEPTH 64

static struct {
    char *base;
    uint64_t size;
    pthread_mutex_t lock;
    uint64_t free_head[RPAL_NCLASSES]; /* offset of the first free block, 0 = none */
    uint64_t cache[CACHE_CLASSES][CACHE_DEPTH]; /* offsets of cached blocks */
    int cached[CACHE_CLASSES];
} s_heap = {.lock = PTHREAD_MUTEX_INITIALIZER};

static inline struct rpal_buf *at(uint64_t off) { return (struct rpal_buf *)(s_heap.base + off); }
static inline uint64_t off_of(const struct rpal_buf *b) { return (uint64_t)((const char *)b - s_heap.base); }
static inline uint64_t class_size(int cls) { return (uint64_t)64 << cls; }

static void list_push(struct rpal_buf *b, int cls)
{
    b->magic = RPAL_MAGIC ^ (uint32_t)cls;
    b->cls = (uint16_t)cls;
    b->state = BUF_FREE;
    b->conn_serial = 0;
    b->prev = 0;
    b->next = s_heap.free_head[cls];
    if (b->next)
        at(b->next)->prev = off_of(b);
    s_heap.free_head[cls] = off_of(b);
}

static void list_remove(struct rpal_buf *b)
{
    if (b->prev)
        at(b->prev)->next = b->next;
    else
        s_heap.free_head[b->cls] = b->next;
    if (b->next)
        at(b->next)->prev = b->prev;
}

/* One bit per 64 bytes of the arena, in private memory: set while an
 * allocated block starts there. The arena is only written by us, but its
 * payloads hold whatever peers sent us, including bytes shaped like a
 * header: arena_buf_of() believes a header only where this bit is set. */
static _Atomic uint8_t *s_live;

static void live_set(uint64_t off, bool on)
{
    uint8_t bit = (uint8_t)(1u << (off / 64 % 8));
    if (on)
        atomic_fetch_or(&s_live[off / 512], bit);
    else
        atomic_fetch_and(&s_live[off / 512], (uint8_t)~bit);
}

static bool live_get(uint64_t off)
{
    return atomic_load(&s_live[off / 512]) & (1u << (off / 64 % 8));
}

int arena_setup(void *base, uint64_t size)
{
    free((void *)s_live);
    s_live = NULL;
    if (base && !(s_live = calloc(size / 512 + 1, 1)))
        return -ENOMEM;
    pthread_mutex_lock(&s_heap.lock);
    s_heap.base = base;
    s_heap.size = size;
    memset(s_heap.free_head, 0, sizeof s_heap.free_head);
    memset(s_heap.cached, 0, sizeof s_heap.cached);
    uint64_t off = RPAL_ARENA_HEADER;
    while (off + class_size(0) <= size) {
        int cls = 0;
        while (cls + 1 < RPAL_NCLASSES && off % class_size(cls + 1) == 0 &&
               off + class_size(cls + 1) <= size)
            cls++;
        list_push(at(off), cls);
        off += class_size(cls);
    }
    pthread_mutex_unlock(&s_heap.lock);
    return 0;
}

static int class_of(size_t payload)
{
    if (payload > ((size_t)1 << 62))
        return -1;
    size_t need = payload + sizeof(struct rpal_buf);
    int cls = 0;
    while (class_size(cls) < need)
        if (++cls >= RPAL_NCLASSES)
            return -1;
    return cls;
}

uint64_t arena_block_bytes(size_t payload)
{
    int cls = class_of(payload);
    return cls < 0 ? 0 : class_size(cls);
}

static void buddy_free_locked(uint64_t off, int cls);

/* Gives every cached block back to the buddy lists; true when there was one. */
static bool cache_flush_locked(void)
{
    bool any = false;
    for (int c = 0; c < CACHE_CLASSES; c++) {
        while (s_heap.cached[c]) {
            buddy_free_locked(s_heap.cache[c][--s_heap.cached[c]], c);
            any = true;
        }
    }
    return any;
}

struct rpal_buf *arena_alloc_block(size_t payload)
{
    int cls = class_of(payload);
    if (cls < 0)
        return NULL;
    pthread_mutex_lock(&s_heap.lock);
    struct rpal_buf *b = NULL;
    if (cls < CACHE_CLASSES && s_heap.cached[cls]) {
        b = at(s_heap.cache[cls][--s_heap.cached[cls]]);
    } else {
        int k;
        for (;;) {
            k = cls;
            while (k < RPAL_NCLASSES && !s_heap.free_head[k])
                k++;
            if (k < RPAL_NCLASSES || !cache_flush_locked())
                break;
        }
        if (k < RPAL_NCLASSES) {
            b = at(s_heap.free_head[k]);
            list_remove(b);
            while (k > cls) { /* split: keep the lower half */
                k--;
                list_push((struct rpal_buf *)((char *)b + class_size(k)), k);
            }
            b->magic = RPAL_MAGIC ^ (uint32_t)cls;
            b->cls = (uint16_t)cls;
        }
    }
    if (b) {
        b->state = BUF_OWNED;
        b->conn_serial = 0;
        b->next = b->prev = 0;
        live_set(off_of(b), true);
    }
    pthread_mutex_unlock(&s_heap.lock);
    return b;
}

void arena_free_block(struct rpal_buf *b)
{
    pthread_mutex_lock(&s_heap.lock);
    uint64_t off = off_of(b);
    live_set(off, false);
    int cls = b->cls;
    if (cls < CACHE_CLASSES && s_heap.cached[cls] < CACHE_DEPTH) {
        b->state = BUF_CACHED;
        b->conn_serial = 0;
        s_heap.cache[cls][s_heap.cached[cls]++] = off;
    } else {
        buddy_free_locked(off, cls);
    }
    pthread_mutex_unlock(&s_heap.lock);
}

/* Frees the block at off, of class cls, merging it with its free buddies. */
static void buddy_free_locked(uint64_t off, int cls)
{
    while (cls + 1 < RPAL_NCLASSES) {
        uint64_t boff = off ^ class_size(cls);
        if (boff < RPAL_ARENA_HEADER || boff + class_size(cls) > s_heap.size)
            break;
        struct rpal_buf *buddy = at(boff);
        if (buddy->state != BUF_FREE || buddy->cls != cls ||
            buddy->magic != (RPAL_MAGIC ^ (uint32_t)cls))
            break;
        list_remove(buddy);
        buddy->magic = 0; /* no longer a block start */
        at(off)->magic = 0;
        off &= ~class_size(cls);
        cls++;
    }
    list_push(at(off), cls);
}

struct rpal_buf *arena_buf_of(const void *payload, uint16_t want_state)
{
    uintptr_t p = (uintptr_t)payload - sizeof(struct rpal_buf);
    uintptr_t lo = (uintptr_t)s_heap.base + RPAL_ARENA_HEADER;
    uintptr_t hi = (uintptr_t)s_heap.base + s_heap.size;
    if (!s_heap.base || (uintptr_t)payload < sizeof(struct rpal_buf) || p < lo || p >= hi ||
        p % 64 || !live_get(p - (uintptr_t)s_heap.base))
        return NULL;
    struct rpal_buf *b = (struct rpal_buf *)p;
    if (b->cls >= RPAL_NCLASSES || b->magic != (RPAL_MAGIC ^ b->cls) ||
        hi - p < class_size(b->cls) || b->state != want_state)
        return NULL;
    return b;
}

RPAL_API int rpal_free(void *ptr)
{
    struct rpal_buf *b = arena_buf_of(ptr, BUF_OWNED);
    if (!b)
        return -EINVAL;
    arena_free_block(b);
    return 0;
}

RPAL_API int64_t rpal_alloc_size(const void *ptr)
{
    struct rpal_buf *b = arena_buf_of(ptr, BUF_OWNED);
    return b ? (int64_t)buf_capacity(b) : -EINVAL;
}
