/* SPDX-License-Identifier: MIT */
/*
 * The arena allocator, in one process with a 16 MiB arena:
 *  - sizes from 1 B to 4 MiB give 16-byte aligned buffers inside this
 *    process's arena (its slot), at least as large as asked, writable end
 *    to end;
 *  - freed memory is reused: 100,000 alloc/free rounds of mixed sizes,
 *    moving far more bytes than the arena holds, never see -ENOMEM;
 *  - -ENOMEM only when the arena is full: after filling it and freeing
 *    everything, the same allocations fit again, and so does one large
 *    buffer after a fill with small ones;
 *  - argument errors: rpal_free of NULL, a stack pointer, the middle of a
 *    buffer, twice; rpal_alloc(0); rpal_alloc before rpal_init; rpal_free of
 *    an old pointer after rpal_exit;
 *  - 4 threads allocating and freeing at once, each checking that nobody
 *    overwrote its buffers.
 */
#include <pthread.h>

#include "test_util.h"

#define ARENA (16u << 20)

static char *s_lo, *s_hi; /* this process's arena */

static uint64_t s_rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(uint64_t *st)
{
    uint64_t x = *st;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *st = x;
}

/* A checked allocation: aligned, inside the arena, big enough. */
static void *alloc_ok(size_t size)
{
    void *p = NULL;
    int rc = rpal_alloc(size, &p);
    if (rc != 0) {
        fprintf(stderr, "rpal_alloc(%zu): %s\n", size, strerror(-rc));
        exit(TEST_FAIL);
    }
    CHECK(((uintptr_t)p & 15) == 0);
    CHECK((char *)p >= s_lo && (char *)p + size <= s_hi);
    int64_t cap = rpal_alloc_size(p);
    CHECK(cap >= (int64_t)size);
    CHECK((char *)p + cap <= s_hi);
    return p;
}

static void fill(void *p, size_t n, uint64_t seed)
{
    uint64_t *w = p;
    size_t i;
    for (i = 0; i < n / 8; i++)
        w[i] = seed ^ (i * 0x9e3779b97f4a7c15ull);
    for (size_t j = i * 8; j < n; j++)
        ((unsigned char *)p)[j] = (unsigned char)(seed + j);
}

static bool check_fill(const void *p, size_t n, uint64_t seed)
{
    const uint64_t *w = p;
    size_t i;
    for (i = 0; i < n / 8; i++)
        if (w[i] != (seed ^ (i * 0x9e3779b97f4a7c15ull)))
            return false;
    for (size_t j = i * 8; j < n; j++)
        if (((const unsigned char *)p)[j] != (unsigned char)(seed + j))
            return false;
    return true;
}

static void test_sizes(void)
{
    static const size_t sizes[] = {1,    2,     3,     7,      8,       15,      16,
                                   17,   31,    32,    33,     63,      64,      65,
                                   100,  1000,  4095,  4096,   4097,    65536,   100000,
                                   1u << 20, (1u << 20) + 1, (2u << 20) - 64, 2u << 20,
                                   3u << 20, (4u << 20) - 32, 4u << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *p = alloc_ok(sizes[i]);
        memset(p, 0xcd, (size_t)rpal_alloc_size(p)); /* the whole usable size is ours */
        fill(p, sizes[i], i);
        CHECK(check_fill(p, sizes[i], i));
        CHECK_OK(rpal_free(p));
    }
    /* several live at once do not overlap */
    void *live[64];
    size_t len[64];
    for (int i = 0; i < 64; i++) {
        len[i] = 1 + (size_t)(rnd(&s_rng) % 20000);
        live[i] = alloc_ok(len[i]);
        fill(live[i], len[i], 1000 + i);
    }
    for (int i = 0; i < 64; i++) {
        CHECK(check_fill(live[i], len[i], 1000 + i));
        CHECK_OK(rpal_free(live[i]));
    }
}

/* Freed memory comes back: far more bytes than the arena holds go through
 * it, with a bounded live set. */
static void test_reuse(void)
{
    /* same size: 100,000 x 64 KiB is 400 times the arena */
    for (int i = 0; i < 100000; i++) {
        void *p = alloc_ok(65536);
        ((char *)p)[0] = 1;
        ((char *)p)[65535] = 2;
        CHECK_OK(rpal_free(p));
    }
    /* mixed sizes, up to 32 live, in random order */
    enum { LIVE = 32 };
    void *live[LIVE] = {0};
    size_t len[LIVE] = {0};
    uint64_t total = 0;
    for (int i = 0; i < 100000; i++) {
        int k = (int)(rnd(&s_rng) % LIVE);
        if (live[k]) {
            CHECK(check_fill(live[k], len[k] < 64 ? len[k] : 64, (uint64_t)k * 7 + len[k]));
            CHECK_OK(rpal_free(live[k]));
            live[k] = NULL;
        }
        /* mostly small, sometimes up to 128 KiB */
        uint64_t r = rnd(&s_rng);
        len[k] = (r & 7) == 0 ? 1 + (size_t)(r >> 8) % (128u << 10) : 1 + (size_t)(r >> 8) % 2048;
        live[k] = alloc_ok(len[k]);
        fill(live[k], len[k] < 64 ? len[k] : 64, (uint64_t)k * 7 + len[k]);
        total += len[k];
    }
    for (int k = 0; k < LIVE; k++)
        if (live[k])
            CHECK_OK(rpal_free(live[k]));
    CHECK(total > 20ull * ARENA);
}

/* Fills the arena with buffers of size bytes until -ENOMEM; returns how
 * many fit. They are all freed again. */
static int fill_arena(size_t size)
{
    static void *bufs[ARENA / 64];
    int n = 0;
    for (;;) {
        void *p;
        int rc = rpal_alloc(size, &p);
        if (rc == -ENOMEM)
            break;
        CHECK_RC(rc, 0);
        CHECK(n < (int)(sizeof bufs / sizeof bufs[0]));
        CHECK((char *)p >= s_lo && (char *)p + size <= s_hi);
        *(volatile char *)p = 1;
        bufs[n++] = p;
    }
    for (int i = 0; i < n; i++)
        CHECK_OK(rpal_free(bufs[i]));
    return n;
}

static void test_full(void)
{
    /* the same allocations fit again after freeing everything */
    int n1 = fill_arena(100000);
    CHECK((uint64_t)n1 * 100000 >= ARENA / 4); /* a sane share of the arena was usable */
    int n2 = fill_arena(100000);
    CHECK(n2 == n1);

    /* -ENOMEM means full: after small buffers filled the arena and were all
     * freed, the arena is empty again and a large buffer fits. */
    int small = fill_arena(1000);
    CHECK((uint64_t)small * 1000 >= ARENA / 4);
    static const size_t big[] = {2048, 65536, 1u << 20, 4u << 20};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        void *p;
        int rc = rpal_alloc(big[i], &p);
        if (rc != 0) {
            fprintf(stderr,
                    "after filling the arena with %d x 1000 B and freeing them all, "
                    "rpal_alloc(%zu) returned %d (%s): freed blocks are never merged\n",
                    small, big[i], rc, strerror(-rc));
            exit(TEST_FAIL);
        }
        CHECK_OK(rpal_free(p));
    }
    /* and the small ones still fit as many times as before */
    CHECK(fill_arena(1000) == small);
    CHECK(fill_arena(100000) == n1);
}

/* A small block freed is handed out again at once (the allocator's cache),
 * and while cached it is free: a second free and a size query refuse it. */
static void test_cache(void)
{
    void *p = alloc_ok(32);
    CHECK_OK(rpal_free(p));
    void *q = alloc_ok(32);
    CHECK(q == p);
    CHECK(rpal_alloc_size(q) >= 32);
    CHECK_OK(rpal_free(q));
    CHECK_RC(rpal_free(q), -EINVAL);
    CHECK_RC(rpal_alloc_size(q), -EINVAL);
    /* more blocks than the cache keeps: all freed, all usable again */
    enum { N = 200 };
    void *b[N];
    for (int i = 0; i < N; i++)
        b[i] = alloc_ok(100);
    for (int i = 0; i < N; i++)
        CHECK_OK(rpal_free(b[i]));
    for (int i = 0; i < N; i++)
        b[i] = alloc_ok(100);
    for (int i = 0; i < N; i++)
        CHECK_OK(rpal_free(b[i]));
}

static void test_errors(void)
{
    void *p = alloc_ok(256);
    memset(p, 0xcd, 256);
    int on_stack[64];
    CHECK_RC(rpal_free(NULL), -EINVAL);
    CHECK_RC(rpal_free(on_stack), -EINVAL);
    CHECK_RC(rpal_free(&on_stack[16]), -EINVAL);
    static char in_bss[4096] __attribute__((aligned(64)));
    CHECK_RC(rpal_free(in_bss + 32), -EINVAL);
    CHECK_RC(rpal_free(s_lo), -EINVAL);                /* the arena header */
    CHECK_RC(rpal_free(s_hi - 64), -EINVAL);           /* never allocated */
    CHECK_RC(rpal_free((char *)p + 16), -EINVAL);      /* middle of a buffer */
    CHECK_RC(rpal_free((char *)p + 64), -EINVAL);      /* 64-aligned middle */
    CHECK_RC(rpal_free((char *)p + 1), -EINVAL);
    CHECK_RC(rpal_alloc_size((char *)p + 16), -EINVAL);
    CHECK_RC(rpal_alloc_size(NULL), -EINVAL);
    /* a header-shaped pattern in a buffer's payload is not a buffer */
    void *q = alloc_ok(4096);
    memset(q, 0, 4096);
    CHECK_RC(rpal_free((char *)q + 32 + 64), -EINVAL);
    CHECK_OK(rpal_free(q));

    CHECK_RC(rpal_free(p), 0);
    CHECK_RC(rpal_free(p), -EINVAL); /* double free */
    CHECK_RC(rpal_alloc_size(p), -EINVAL);
    /* the double free did not put the block on a free list twice: two new
     * allocations of that size are distinct */
    void *a = alloc_ok(256), *b = alloc_ok(256);
    CHECK(a != b);
    CHECK_OK(rpal_free(a));
    CHECK_OK(rpal_free(b));

    CHECK_RC(rpal_alloc(0, &p), -EINVAL);
    CHECK_RC(rpal_alloc(16, NULL), -EINVAL);
    CHECK_RC(rpal_alloc(SIZE_MAX, &p), -ENOMEM);
    CHECK_RC(rpal_alloc(ARENA, &p), -ENOMEM); /* the header takes some */
}

/* ----------------------------------------------------------------- threads */

#define THREADS 4
#define ROUNDS 40000

static pthread_barrier_t s_start;

static void *worker(void *arg)
{
    uint64_t id = (uint64_t)(uintptr_t)arg;
    uint64_t st = 0x1234567ull * (id + 1);
    enum { LIVE = 16 };
    void *live[LIVE] = {0};
    size_t len[LIVE] = {0};
    uint64_t seed[LIVE] = {0};
    pthread_barrier_wait(&s_start);
    for (uint64_t i = 0; i < ROUNDS; i++) {
        int k = (int)(rnd(&st) % LIVE);
        if (live[k]) {
            if (!check_fill(live[k], len[k], seed[k])) {
                fprintf(stderr, "thread %d: buffer %p (%zu B) was overwritten\n", (int)id,
                        live[k], len[k]);
                exit(TEST_FAIL);
            }
            CHECK_OK(rpal_free(live[k]));
            live[k] = NULL;
        }
        len[k] = 1 + (size_t)(rnd(&st) % 8192);
        seed[k] = (id << 56) ^ (i << 8) ^ (uint64_t)k;
        CHECK_OK(rpal_alloc(len[k], &live[k]));
        CHECK((char *)live[k] >= s_lo && (char *)live[k] + len[k] <= s_hi);
        fill(live[k], len[k], seed[k]);
    }
    for (int k = 0; k < LIVE; k++) {
        if (live[k]) {
            CHECK(check_fill(live[k], len[k], seed[k]));
            CHECK_OK(rpal_free(live[k]));
        }
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[THREADS];
    CHECK(pthread_barrier_init(&s_start, NULL, THREADS) == 0);
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i) == 0);
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_join(t[i], NULL) == 0);
    pthread_barrier_destroy(&s_start);
}

int main(void)
{
    void *p;
    CHECK_RC(rpal_alloc(16, &p), -ENOTCONN);
    CHECK_RC(rpal_free(NULL), -EINVAL);

    struct rpal_options o;
    CHECK_OK(rpal_options_init(&o));
    o.arena_size = ARENA;
    o.spin_ns = 0;
    CHECK_OK(rpal_init(&o));
    int slot = rpal_slot_id();
    CHECK(slot >= 0);
    s_lo = (char *)(uintptr_t)(o.window_base + (uint64_t)slot * o.slot_size);
    s_hi = s_lo + ARENA;

    test_sizes();
    test_cache();
    test_errors();
    test_reuse();
    test_threads();
    test_full();

    /* after exit the arena is gone: an old pointer is just invalid */
    CHECK_OK(rpal_alloc(64, &p));
    CHECK_OK(rpal_exit());
    CHECK_RC(rpal_free(p), -EINVAL);
    CHECK_RC(rpal_alloc_size(p), -EINVAL);
    CHECK_RC(rpal_alloc(16, &p), -ENOTCONN);
    printf("alloc: ok\n");
    return 0;
}
