/* SPDX-License-Identifier: MIT */
/* Options, process lifecycle and the spin budget. */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

struct rpal_runtime g_rt = {.lock = PTHREAD_MUTEX_INITIALIZER, .dirfd = -1, .slot = -1,
                            .slot_lock_fd = -1, .arena_fd = -1, .arena_ro_fd = -1};
const struct rpal_backend *g_backend = &rpal_backend_user;

#if defined(__SANITIZE_THREAD__)
/* ThreadSanitizer owns most of the address space above 1 TiB; its
 * application range 0-512 GiB is where the window fits. */
#define DEFAULT_WINDOW 0x1000000000ull
#else
#define DEFAULT_WINDOW 0x400000000000ull
#endif

int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t spin_budget_ns(void) { return atomic_load_explicit(&g_rt.spin_ns, memory_order_relaxed); }

int64_t spin_for(struct spin_policy *p)
{
    int64_t budget = spin_budget_ns();
    return atomic_load_explicit(&p->expect_ns, memory_order_relaxed) <= budget ? budget : 0;
}

int64_t spin_for_probing(struct spin_policy *p, bool known_long)
{
    int64_t spin = known_long ? 0 : spin_for(p);
    if (!spin && (atomic_fetch_add_explicit(&p->skipped, 1, memory_order_relaxed) & 31) == 31)
        spin = spin_budget_ns();
    return spin;
}

void spin_learn(struct spin_policy *p, int64_t waited_ns)
{
    /* the last wait alone: a steady rate is learnt in one wait, and one odd wait costs at
     * most one budget of spinning or one wake-up */
    atomic_store_explicit(&p->expect_ns, waited_ns, memory_order_relaxed);
}

/* Parses "123", "0x1000", "64M", "1G"; returns false when malformed. */
static bool parse_u64(const char *s, uint64_t *out)
{
    /* a digit first: strtoull would also take leading blanks and a sign
     * (and wrap "-1" around to UINT64_MAX) */
    if (!s || !isdigit((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s)
        return false;
    uint64_t mul = 1;
    switch (toupper((unsigned char)*end)) {
    case 'K': mul = 1ull << 10; end++; break;
    case 'M': mul = 1ull << 20; end++; break;
    case 'G': mul = 1ull << 30; end++; break;
    default: break;
    }
    if (*end || (mul > 1 && v > UINT64_MAX / mul))
        return false;
    *out = v * mul;
    return true;
}

static int env_u64(const char *name, uint64_t *field)
{
    const char *s = getenv(name);
    uint64_t v;
    if (!s)
        return 0;
    if (!parse_u64(s, &v))
        return -EINVAL;
    *field = v;
    return 0;
}

static int env_u32(const char *name, uint32_t *field)
{
    uint64_t v = *field;
    int rc = env_u64(name, &v);
    if (rc == 0 && v > UINT32_MAX)
        return -EINVAL;
    if (rc == 0)
        *field = (uint32_t)v;
    return rc;
}

/* A group by number or by name. */
static int env_group(const char *name, int64_t *field)
{
    const char *s = getenv(name);
    uint64_t v;
    if (!s || !*s)
        return 0;
    if (parse_u64(s, &v)) {
        if (v >= UINT32_MAX)
            return -EINVAL;
        *field = (int64_t)v;
        return 0;
    }
    struct group gr, *res = NULL;
    char buf[4096];
    if (getgrnam_r(s, &gr, buf, sizeof buf, &res) != 0 || !res)
        return -EINVAL;
    *field = res->gr_gid;
    return 0;
}

RPAL_API int rpal_options_init(struct rpal_options *o)
{
    if (!o)
        return -EINVAL;
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    o->ring_entries = 256;
    o->arena_size = 128ull << 20;
    o->slot_size = 1ull << 30;
    o->window_base = DEFAULT_WINDOW;
    o->slot_count = 256;
    o->max_calls = 1024;
    o->spin_ns = 50000;
    o->runtime_group = -1;
    int rc = 0;
    rc |= env_group("RPAL_RUNTIME_GROUP", &o->runtime_group);
    rc |= env_u32("RPAL_RING_ENTRIES", &o->ring_entries);
    rc |= env_u64("RPAL_ARENA_SIZE", &o->arena_size);
    rc |= env_u64("RPAL_SLOT_SIZE", &o->slot_size);
    rc |= env_u64("RPAL_WINDOW_BASE", &o->window_base);
    rc |= env_u32("RPAL_SLOT_COUNT", &o->slot_count);
    rc |= env_u32("RPAL_MAX_CALLS", &o->max_calls);
    uint64_t spin = (uint64_t)o->spin_ns;
    rc |= env_u64("RPAL_SPIN_NS", &spin);
    if (spin <= INT64_MAX)
        o->spin_ns = (int64_t)spin;
    else
        rc |= -EINVAL; /* out of range is malformed too, not silently the default */
    return rc ? -EINVAL : 0;
}

static bool pow2(uint64_t v) { return v && !(v & (v - 1)); }

static int check_options(const struct rpal_options *o)
{
    if (o->size < sizeof *o)
        return -EINVAL;
    if (!pow2(o->ring_entries) || o->ring_entries < 16 || o->ring_entries > 65536)
        return -EINVAL;
    if (!pow2(o->slot_size) || o->slot_size < (2u << 20))
        return -EINVAL;
    if (o->arena_size < RPAL_MIN_ARENA || o->arena_size % 4096 || o->arena_size > o->slot_size)
        return -EINVAL;
    if (o->slot_count < 2 || o->slot_count > 65536 || o->window_base % o->slot_size)
        return -EINVAL;
    uint64_t span, end;
    if (o->window_base == 0 || __builtin_mul_overflow((uint64_t)o->slot_count, o->slot_size, &span) ||
        __builtin_add_overflow(o->window_base, span, &end) || end > 0x800000000000ull)
        return -EINVAL;
    if (o->max_calls < 1 || o->max_calls > 65535 || o->spin_ns < 0)
        return -EINVAL;
    if (o->runtime_group < -1 || o->runtime_group >= UINT32_MAX)
        return -EINVAL;
    return 0;
}

RPAL_API int rpal_init(const struct rpal_options *o)
{
    struct rpal_options opt;
    int rc;
    if (o) {
        if (o->size < sizeof opt)
            return -EINVAL;
        opt = *o;
    } else if ((rc = rpal_options_init(&opt)) < 0) {
        return rc;
    }
    if ((rc = check_options(&opt)) < 0)
        return rc;

    pthread_mutex_lock(&g_rt.lock);
    if (g_rt.started) {
        pthread_mutex_unlock(&g_rt.lock);
        return -EALREADY;
    }
    g_rt.opt = opt;
    g_rt.opt.runtime_dir = NULL; /* copied into g_rt.dir */
    g_rt.pid = getpid();
    atomic_store(&g_rt.spin_ns, opt.spin_ns);
    g_rt.peers = calloc(opt.slot_count, sizeof *g_rt.peers);
    if (!g_rt.peers) {
        rc = -ENOMEM;
        goto fail;
    }
    if ((rc = registry_open(&g_rt, opt.runtime_dir)) < 0)
        goto fail;
    if ((rc = g_backend->start(&g_rt)) < 0)
        goto fail;
    g_rt.started = true;
    pthread_mutex_unlock(&g_rt.lock);
    return 0;
fail:
    registry_close(&g_rt);
    free(g_rt.peers);
    g_rt.peers = NULL;
    g_rt.dir[0] = 0;
    pthread_mutex_unlock(&g_rt.lock);
    return rc;
}

RPAL_API int rpal_exit(void)
{
    pthread_mutex_lock(&g_rt.lock);
    if (!g_rt.started) {
        pthread_mutex_unlock(&g_rt.lock);
        return -ENOTCONN;
    }
    pthread_mutex_unlock(&g_rt.lock);
    for (;;) {
        pthread_mutex_lock(&g_rt.lock);
        struct rpal_conn *c = g_rt.conns;
        struct rpal_service *s = g_rt.services;
        pthread_mutex_unlock(&g_rt.lock);
        if (c)
            rpal_release_service(c);
        else if (s)
            rpal_unregister_service(s);
        else
            break;
    }
    pthread_mutex_lock(&g_rt.lock);
    g_backend->stop(&g_rt);
    registry_close(&g_rt);
    free(g_rt.peers);
    g_rt.peers = NULL;
    g_rt.dir[0] = 0;
    g_rt.started = false;
    pthread_mutex_unlock(&g_rt.lock);
    return 0;
}

RPAL_API int rpal_slot_id(void) { return g_rt.started ? g_rt.slot : -ENOTCONN; }

RPAL_API int rpal_set_spin_ns(int64_t ns)
{
    if (ns < 0)
        return -EINVAL;
    atomic_store(&g_rt.spin_ns, ns);
    return 0;
}
