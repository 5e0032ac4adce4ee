/* SPDX-License-Identifier: MIT */
/*
 * The arena allocator: message buffers in this process's own arena.
 *
 * A buddy allocator. Blocks are powers of two from 64 bytes (class 0) up,
 * each aligned to its own size (as an offset in the arena) and starting with
 * a 32-byte struct rpal_buf header. At setup the arena past its header is cut
 * into the largest aligned blocks that fit, all free. An allocation takes a
 * free block of its class or splits the smallest larger one (the upper
 * halves go to the lower classes); a freed block is merged with its buddy
 * (the other half of its parent) while the buddy is free, so freeing
 * everything gives the whole arena back whatever sizes came and went.
 *
 * One lock guards the free lists and the magic/cls/next/prev of free
 * blocks. A free block's magic is FREE_MAGIC ^ class (an allocated block's
 * is RPAL_MAGIC ^ class, what arena_buf_of() accepts); a header that stops
 * being a block start (taken by a merge or handed out) is wiped first, so a
 * FREE_MAGIC header is always the start of a free block on its list. The
 * merge reads only magic and cls of the buddy, fields the allocator alone
 * writes; state, conn_serial, next and prev of live blocks belong to conn.c
 * and call.c. Only this process writes its arena, so headers are trusted
 * (peers can read them, never change them).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

#define FREE_MAGIC (RPAL_MAGIC ^ 0x80000000u)

static struct {
    char *base;
    uint64_t size;
    pthread_mutex_t lock;              /* the free lists and free blocks' headers */
    uint64_t free_head[RPAL_NCLASSES]; /* offset of the first free block, 0 = none */
} s_heap = {.lock = PTHREAD_MUTEX_INITIALIZER};

static struct rpal_buf *at(uint64_t off) { return (struct rpal_buf *)(s_heap.base + off); }
static uint64_t block_len(int cls) { return (uint64_t)64 << cls; }

/* Marks the block at off free and puts it on its class's list. Lock held. */
static void list_push(uint64_t off, int cls)
{
    struct rpal_buf *b = at(off);
    b->magic = FREE_MAGIC ^ (uint32_t)cls;
    b->cls = (uint16_t)cls;
    b->state = BUF_FREE;
    b->conn_serial = 0;
    b->prev = 0;
    b->next = s_heap.free_head[cls];
    if (b->next)
        at(b->next)->prev = off;
    s_heap.free_head[cls] = off;
}

/* Takes the free block at off off its list; it is no block start any more
 * until the caller writes a new header there. Lock held. */
static void list_unlink(uint64_t off, int cls)
{
    struct rpal_buf *b = at(off);
    if (b->prev)
        at(b->prev)->next = b->next;
    else
        s_heap.free_head[cls] = b->next;
    if (b->next)
        at(b->next)->prev = b->prev;
    b->magic = 0;
}

/* Whether a free block of class cls starts at off. Lock held. */
static bool is_free(uint64_t off, int cls)
{
    if (off < RPAL_ARENA_HEADER || off > s_heap.size || s_heap.size - off < block_len(cls))
        return false;
    const struct rpal_buf *b = at(off);
    return b->magic == (FREE_MAGIC ^ (uint32_t)cls) && b->cls == cls;
}

int arena_setup(void *base, uint64_t size)
{
    pthread_mutex_lock(&s_heap.lock);
    s_heap.base = base;
    s_heap.size = size;
    for (int i = 0; i < RPAL_NCLASSES; i++)
        s_heap.free_head[i] = 0;
    /* cut [header, size) into the largest aligned blocks */
    uint64_t off = RPAL_ARENA_HEADER;
    while (size - off >= block_len(0)) {
        int cls = 0;
        while (cls + 1 < RPAL_NCLASSES && off % block_len(cls + 1) == 0 &&
               size - off >= block_len(cls + 1))
            cls++;
        list_push(off, cls);
        off += block_len(cls);
    }
    pthread_mutex_unlock(&s_heap.lock);
    return 0;
}

static int class_of(size_t payload)
{
    if (payload > SIZE_MAX - sizeof(struct rpal_buf))
        return -1; /* payload + header would wrap around to a tiny block */
    size_t need = payload + sizeof(struct rpal_buf);
    int cls = 0;
    while (((size_t)64 << cls) < need) {
        if (++cls >= RPAL_NCLASSES)
            return -1;
    }
    return cls;
}

struct rpal_buf *arena_alloc_block(size_t payload)
{
    int cls = class_of(payload);
    if (cls < 0)
        return NULL;
    pthread_mutex_lock(&s_heap.lock);
    int k = cls;
    while (k < RPAL_NCLASSES && !s_heap.free_head[k])
        k++;
    if (k == RPAL_NCLASSES) {
        pthread_mutex_unlock(&s_heap.lock);
        return NULL;
    }
    uint64_t off = s_heap.free_head[k];
    list_unlink(off, k);
    /* split: keep the lower 64 << cls bytes, free the upper halves */
    while (k > cls) {
        k--;
        list_push(off + block_len(k), k);
    }
    struct rpal_buf *b = at(off);
    b->magic = RPAL_MAGIC ^ (uint32_t)cls;
    b->cls = (uint16_t)cls;
    b->state = BUF_OWNED;
    b->conn_serial = 0;
    b->next = b->prev = 0;
    pthread_mutex_unlock(&s_heap.lock);
    return b;
}

void arena_free_block(struct rpal_buf *b)
{
    pthread_mutex_lock(&s_heap.lock);
    uint64_t off = (uint64_t)((char *)b - s_heap.base);
    int cls = b->cls;
    b->magic = 0; /* a stale pointer to it is no buffer any more (double free) */
    while (cls + 1 < RPAL_NCLASSES && is_free(off ^ block_len(cls), cls)) {
        list_unlink(off ^ block_len(cls), cls);
        off &= ~block_len(cls); /* the merged block starts at the lower half */
        cls++;
    }
    list_push(off, cls);
    pthread_mutex_unlock(&s_heap.lock);
}

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
        hi - p < block_len(b->cls) || (p - (uintptr_t)s_heap.base) % block_len(b->cls) ||
        b->state != want_state)
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
    if (!g_rt.started)
        return -EINVAL; /* after rpal_exit() the arena is unmapped: do not look */
    struct rpal_buf *b = arena_buf_of(ptr, BUF_OWNED);
    if (!b)
        return -EINVAL;
    arena_free_block(b);
    return 0;
}

RPAL_API int64_t rpal_alloc_size(const void *ptr)
{
    if (!g_rt.started)
        return -EINVAL;
    struct rpal_buf *b = arena_buf_of(ptr, BUF_OWNED);
    return b ? (int64_t)buf_capacity(b) : -EINVAL;
}
