/* SPDX-License-Identifier: MIT */
/*
 * The arena allocator: message buffers in this process's own arena.
 *
 * Blocks are powers of two from 64 bytes (class 0) up, each starting with a
 * 32-byte struct rpal_buf header, 64-byte aligned. A free block goes on its
 * class's free list; fresh memory comes from a bump pointer; when both are
 * empty a larger free block is split (halves go to the lower classes).
 * Blocks are not coalesced: message traffic reuses the same sizes, and the
 * arena is reset with the process. Only this process writes its arena, so
 * headers are trusted (peers can read them, never change them).
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static struct {
    char *base;
    uint64_t size;
    _Atomic uint64_t bump;           /* offset of the first never-used byte */
    pthread_mutex_t lock[RPAL_NCLASSES];
    uint64_t free_head[RPAL_NCLASSES]; /* offset of the first free block, 0 = none */
} s_heap;

int arena_setup(void *base, uint64_t size)
{
    s_heap.base = base;
    s_heap.size = size;
    atomic_store(&s_heap.bump, RPAL_ARENA_HEADER);
    for (int i = 0; i < RPAL_NCLASSES; i++) {
        pthread_mutex_init(&s_heap.lock[i], NULL);
        s_heap.free_head[i] = 0;
    }
    return 0;
}

static int class_of(size_t payload)
{
    size_t need = payload + sizeof(struct rpal_buf);
    int cls = 0;
    while (((size_t)64 << cls) < need) {
        if (++cls >= RPAL_NCLASSES)
            return -1;
    }
    return cls;
}

static struct rpal_buf *at(uint64_t off) { return (struct rpal_buf *)(s_heap.base + off); }

static void init_block(struct rpal_buf *b, int cls)
{
    b->magic = RPAL_MAGIC ^ (uint32_t)cls;
    b->cls = (uint16_t)cls;
    b->state = BUF_OWNED;
    b->conn_serial = 0;
    b->next = b->prev = 0;
}

static struct rpal_buf *pop(int cls)
{
    pthread_mutex_lock(&s_heap.lock[cls]);
    uint64_t off = s_heap.free_head[cls];
    if (off)
        s_heap.free_head[cls] = at(off)->next;
    pthread_mutex_unlock(&s_heap.lock[cls]);
    return off ? at(off) : NULL;
}

static void push(struct rpal_buf *b, int cls)
{
    b->magic = RPAL_MAGIC ^ (uint32_t)cls;
    b->cls = (uint16_t)cls;
    b->state = BUF_FREE;
    pthread_mutex_lock(&s_heap.lock[cls]);
    b->next = s_heap.free_head[cls];
    s_heap.free_head[cls] = (uint64_t)((char *)b - s_heap.base);
    pthread_mutex_unlock(&s_heap.lock[cls]);
}

static struct rpal_buf *bump(int cls)
{
    uint64_t len = (uint64_t)64 << cls;
    uint64_t off = atomic_load_explicit(&s_heap.bump, memory_order_relaxed);
    do {
        if (off > s_heap.size || s_heap.size - off < len)
            return NULL;
    } while (!atomic_compare_exchange_weak(&s_heap.bump, &off, off + len));
    return at(off);
}

struct rpal_buf *arena_alloc_block(size_t payload)
{
    int cls = class_of(payload);
    if (cls < 0)
        return NULL;
    struct rpal_buf *b = pop(cls);
    if (!b)
        b = bump(cls);
    for (int k = cls + 1; !b && k < RPAL_NCLASSES; k++) {
        b = pop(k);
        if (!b)
            continue;
        /* split: keep the first 64 << cls bytes, free the halves above */
        for (int j = k - 1; j >= cls; j--)
            push((struct rpal_buf *)((char *)b + ((size_t)64 << j)), j);
    }
    if (b)
        init_block(b, cls);
    return b;
}

void arena_free_block(struct rpal_buf *b) { push(b, b->cls); }

struct rpal_buf *arena_buf_of(const void *payload, uint16_t want_state)
{
    uintptr_t p = (uintptr_t)payload - sizeof(struct rpal_buf);
    uintptr_t lo = (uintptr_t)s_heap.base + RPAL_ARENA_HEADER;
    uintptr_t hi = (uintptr_t)s_heap.base + s_heap.size;
    if (!s_heap.base || (uintptr_t)payload < sizeof(struct rpal_buf) || p < lo || p >= hi ||
        p % 64)
        return NULL;
    struct rpal_buf *b = (struct rpal_buf *)p;
    if (b->cls >= RPAL_NCLASSES || b->magic != (RPAL_MAGIC ^ b->cls) ||
        hi - p < ((uint64_t)64 << b->cls) || b->state != want_state)
        return NULL;
    return b;
}

/* Takes back buffers the peers released, then tries again. */
static struct rpal_buf *alloc_reclaiming(size_t size)
{
    struct rpal_buf *b = arena_alloc_block(size);
    if (b)
        return b;
    pthread_mutex_lock(&g_rt.lock);
    for (struct rpal_conn *c = g_rt.conns; c; c = c->next_all)
        try_drain_ctl(c);
    pthread_mutex_unlock(&g_rt.lock);
    return arena_alloc_block(size);
}

RPAL_API int rpal_alloc(size_t size, void **ptr)
{
    if (!size || !ptr)
        return -EINVAL;
    if (!g_rt.started)
        return -ENOTCONN;
    struct rpal_buf *b = alloc_reclaiming(size);
    if (!b)
        return -ENOMEM;
    *ptr = buf_payload(b);
    return 0;
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
