/* SPDX-License-Identifier: MIT */
/*
 * Process lifecycle: rpal_options_init defaults and environment parsing,
 * rpal_init's option checks, -EALREADY / -ENOTCONN, init/exit/init, a slot
 * window that overlaps a mapping (-EADDRINUSE), a runtime directory that is
 * not private (-EPERM), and slot exhaustion across processes: with two
 * slots held by two children a third init gets -EUSERS, and once one child
 * is killed its slot is taken again (a crash frees the slot).
 *
 * Children are forked before this process first calls rpal_init().
 */
#include <ftw.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "test_util.h"

#if defined(__SANITIZE_THREAD__)
#define DEFAULT_WINDOW 0x1000000000ull
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DEFAULT_WINDOW 0x1000000000ull
#endif
#endif
#ifndef DEFAULT_WINDOW
#define DEFAULT_WINDOW 0x400000000000ull
#endif

static char s_tmp[64];

static const char *const s_env[] = {"RPAL_RING_ENTRIES", "RPAL_ARENA_SIZE", "RPAL_SLOT_SIZE",
                                    "RPAL_WINDOW_BASE",  "RPAL_SLOT_COUNT", "RPAL_MAX_CALLS",
                                    "RPAL_SPIN_NS"};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof s_env / sizeof s_env[0]; i++)
        unsetenv(s_env[i]);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void rm_rf(const char *path) { nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

/* Options for the tests: small arena, a private runtime directory. */
static struct rpal_options opts(const char *dir)
{
    struct rpal_options o;
    CHECK_OK(rpal_options_init(&o));
    o.arena_size = 1u << 20;
    o.spin_ns = 0;
    o.runtime_dir = dir;
    return o;
}

/* ---------------------------------------------------------------- defaults */

static void test_defaults(void)
{
    struct rpal_options o;
    memset(&o, 0xa5, sizeof o);
    CHECK_RC(rpal_options_init(&o), 0);
    CHECK(o.size == sizeof o);
    CHECK(o.ring_entries == 256);
    CHECK(o.arena_size == 128ull << 20);
    CHECK(o.slot_size == 1ull << 30);
    CHECK(o.window_base == DEFAULT_WINDOW);
    CHECK(o.slot_count == 256);
    CHECK(o.max_calls == 1024);
    CHECK(o.spin_ns == 50000);
    CHECK(o.runtime_dir == NULL);
    CHECK_RC(rpal_options_init(NULL), -EINVAL);
}

/* Sets name=value, runs rpal_options_init, expects rc, unsets name. */
static struct rpal_options env_case(const char *name, const char *value, int want_rc)
{
    struct rpal_options o;
    CHECK(setenv(name, value, 1) == 0);
    int rc = rpal_options_init(&o);
    if (rc != want_rc) {
        fprintf(stderr, "%s=\"%s\": rpal_options_init returned %d, want %d\n", name, value, rc,
                want_rc);
        exit(TEST_FAIL);
    }
    unsetenv(name);
    return o;
}

static void test_env(void)
{
    struct rpal_options d;
    CHECK_OK(rpal_options_init(&d));

    CHECK(env_case("RPAL_RING_ENTRIES", "1024", 0).ring_entries == 1024);
    CHECK(env_case("RPAL_RING_ENTRIES", "0x40", 0).ring_entries == 64);
    CHECK(env_case("RPAL_ARENA_SIZE", "2097152", 0).arena_size == 2u << 20);
    CHECK(env_case("RPAL_ARENA_SIZE", "4096K", 0).arena_size == 4u << 20);
    CHECK(env_case("RPAL_ARENA_SIZE", "3M", 0).arena_size == 3u << 20);
    CHECK(env_case("RPAL_ARENA_SIZE", "3m", 0).arena_size == 3u << 20);
    CHECK(env_case("RPAL_ARENA_SIZE", "1G", 0).arena_size == 1ull << 30);
    CHECK(env_case("RPAL_ARENA_SIZE", "16k", 0).arena_size == 16u << 10);
    CHECK(env_case("RPAL_SLOT_SIZE", "512M", 0).slot_size == 512ull << 20);
    CHECK(env_case("RPAL_SLOT_SIZE", "2G", 0).slot_size == 2ull << 30);
    CHECK(env_case("RPAL_WINDOW_BASE", "0x200000000000", 0).window_base == 0x200000000000ull);
    CHECK(env_case("RPAL_WINDOW_BASE", "0X7f0000000000", 0).window_base == 0x7f0000000000ull);
    CHECK(env_case("RPAL_SLOT_COUNT", "8", 0).slot_count == 8);
    CHECK(env_case("RPAL_MAX_CALLS", "77", 0).max_calls == 77);
    CHECK(env_case("RPAL_SPIN_NS", "0", 0).spin_ns == 0);
    CHECK(env_case("RPAL_SPIN_NS", "123456", 0).spin_ns == 123456);

    /* several at once */
    setenv("RPAL_RING_ENTRIES", "32", 1);
    setenv("RPAL_SLOT_COUNT", "16", 1);
    setenv("RPAL_SPIN_NS", "7", 1);
    struct rpal_options o;
    CHECK_RC(rpal_options_init(&o), 0);
    CHECK(o.ring_entries == 32 && o.slot_count == 16 && o.spin_ns == 7);
    CHECK(o.arena_size == d.arena_size && o.max_calls == d.max_calls);
    clear_env();

    /* malformed: -EINVAL, and the field keeps its default */
    static const struct {
        const char *name, *value;
    } bad[] = {
        {"RPAL_RING_ENTRIES", "abc"},
        {"RPAL_RING_ENTRIES", ""},
        {"RPAL_RING_ENTRIES", "12x"},
        {"RPAL_RING_ENTRIES", "-16"},
        {"RPAL_RING_ENTRIES", "4294967296"},          /* > UINT32_MAX */
        {"RPAL_ARENA_SIZE", "64MB"},
        {"RPAL_ARENA_SIZE", "1.5M"},
        {"RPAL_ARENA_SIZE", "M"},
        {"RPAL_ARENA_SIZE", "99999999999999999999"},  /* > UINT64_MAX */
        {"RPAL_ARENA_SIZE", "17179869184G"},          /* 2^64: overflows with the suffix */
        {"RPAL_ARENA_SIZE", " -1"},                   /* strtoull would wrap this around */
        {"RPAL_SLOT_SIZE", "1T"},
        {"RPAL_WINDOW_BASE", "0x"},
        {"RPAL_WINDOW_BASE", "0xZZ"},
        {"RPAL_SLOT_COUNT", "4G"},                    /* > UINT32_MAX */
        {"RPAL_MAX_CALLS", "ten"},
        {"RPAL_SPIN_NS", "-1"},
        {"RPAL_SPIN_NS", "9223372036854775808"},      /* > INT64_MAX */
        {"RPAL_SPIN_NS", "50us"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o = env_case(bad[i].name, bad[i].value, -EINVAL);
        if (memcmp(&o, &d, sizeof o) != 0) {
            fprintf(stderr, "%s=\"%s\": options differ from the defaults\n", bad[i].name,
                    bad[i].value);
            exit(TEST_FAIL);
        }
    }
}

/* ----------------------------------------------------------- option checks */

static void test_bad_options(const char *dir)
{
    struct rpal_options o;
#define BAD(stmt)                                                                        \
    do {                                                                                 \
        o = opts(dir);                                                                   \
        stmt;                                                                            \
        int rc_ = rpal_init(&o);                                                         \
        if (rc_ != -EINVAL) {                                                            \
            fprintf(stderr, "%s:%d: rpal_init after `%s` returned %d, want -EINVAL\n",   \
                    __FILE__, __LINE__, #stmt, rc_);                                     \
            exit(TEST_FAIL);                                                             \
        }                                                                                \
    } while (0)
    BAD(o.ring_entries = 100);            /* not a power of two */
    BAD(o.ring_entries = 8);              /* too small */
    BAD(o.ring_entries = 0);
    BAD(o.ring_entries = 131072);         /* too big */
    BAD(o.arena_size = (1u << 20) + 100); /* not a page multiple */
    BAD(o.arena_size = 512u << 10);       /* below 1 MiB */
    BAD(o.arena_size = 0);
    BAD(o.slot_size = 4u << 20; o.arena_size = 8u << 20); /* arena larger than the slot */
    BAD(o.slot_size = (1ull << 30) + (1ull << 29));       /* slot size not a power of two */
    BAD(o.slot_size = 1u << 20);                          /* below 2 MiB */
    BAD(o.window_base += 4096);                           /* misaligned */
    BAD(o.window_base += o.slot_size / 2);
    BAD(o.slot_count = 1);
    BAD(o.slot_count = 0);
    BAD(o.max_calls = 0);
    BAD(o.max_calls = 65536);
    BAD(o.spin_ns = -1);
    BAD(o.size = sizeof o - 8);                           /* an older, smaller struct */
    BAD(o.size = 0);
#undef BAD
    /* none of that left anything behind */
    CHECK_RC(rpal_slot_id(), -ENOTCONN);
    CHECK_RC(rpal_exit(), -ENOTCONN);
    o = opts(dir);
    CHECK_RC(rpal_init(&o), 0);
    CHECK_OK(rpal_exit());
}

/* --------------------------------------------------------------- lifecycle */

static void test_lifecycle(const char *dir)
{
    struct rpal_options o = opts(dir);
    CHECK_RC(rpal_slot_id(), -ENOTCONN);
    CHECK_RC(rpal_exit(), -ENOTCONN);
    CHECK_RC(rpal_init(&o), 0);
    int slot = rpal_slot_id();
    CHECK(slot >= 0 && (uint32_t)slot < o.slot_count);
    CHECK_RC(rpal_init(&o), -EALREADY);
    CHECK_RC(rpal_init(NULL), -EALREADY);
    CHECK(rpal_slot_id() == slot); /* the failed init changed nothing */
    /* the arena is mapped read-write at the slot's address */
    char *arena = (char *)(uintptr_t)(o.window_base + (uint64_t)slot * o.slot_size);
    void *p;
    CHECK_OK(rpal_alloc(100, &p));
    CHECK((char *)p > arena && (char *)p < arena + o.arena_size);
    memset(p, 1, 100);
    CHECK_OK(rpal_free(p));
    CHECK_RC(rpal_exit(), 0);
    CHECK_RC(rpal_exit(), -ENOTCONN);
    CHECK_RC(rpal_slot_id(), -ENOTCONN);
    CHECK_RC(rpal_alloc(16, &p), -ENOTCONN);
    /* the window is gone after exit: mapping over it must succeed */
    void *m = mmap(arena, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK(m == (void *)arena);
    munmap(m, 4096);

    /* again, several times, with other settings each time */
    for (int i = 0; i < 3; i++) {
        o = opts(dir);
        o.arena_size = (uint64_t)(i + 1) << 20;
        o.ring_entries = 16u << i;
        CHECK_RC(rpal_init(&o), 0);
        CHECK(rpal_slot_id() >= 0);
        CHECK_OK(rpal_alloc(4096, &p));
        CHECK_OK(rpal_free(p));
        CHECK_RC(rpal_exit(), 0);
    }
    /* rpal_init(NULL) takes the environment */
    setenv("RPAL_RUNTIME_DIR", dir, 1);
    setenv("RPAL_ARENA_SIZE", "1M", 1);
    setenv("RPAL_SPIN_NS", "0", 1);
    CHECK_RC(rpal_init(NULL), 0);
    CHECK_OK(rpal_exit());
    setenv("RPAL_SLOT_COUNT", "junk", 1);
    CHECK_RC(rpal_init(NULL), -EINVAL);
    clear_env();
}

/* A window that overlaps a mapping: -EADDRINUSE, wherever the overlap is. */
static void test_window_in_use(const char *dir)
{
    struct rpal_options o = opts(dir);
    o.slot_count = 16;
    uint64_t at[] = {o.window_base, o.window_base + 5 * o.slot_size + 65536,
                     o.window_base + 16 * o.slot_size - 4096};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        void *want = (void *)(uintptr_t)at[i];
        void *m = mmap(want, 4096, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        CHECK(m == want);
        *(volatile int *)m = 42;
        CHECK_RC(rpal_init(&o), -EADDRINUSE);
        CHECK_RC(rpal_slot_id(), -ENOTCONN);
        CHECK(*(volatile int *)m == 42); /* the failed init left our mapping alone */
        CHECK(munmap(m, 4096) == 0);
    }
    /* just past the window is fine */
    void *past = (void *)(uintptr_t)(o.window_base + 16 * o.slot_size);
    void *m = mmap(past, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK(m == past);
    CHECK_RC(rpal_init(&o), 0);
    CHECK_OK(rpal_exit());
    munmap(m, 4096);
}

/* A runtime directory others can access, or owned by another uid: -EPERM. */
static void test_runtime_dir_perm(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/open", s_tmp);
    CHECK(mkdir(dir, 0700) == 0);
    CHECK(chmod(dir, 0755) == 0);
    struct rpal_options o = opts(dir);
    CHECK_RC(rpal_init(&o), -EPERM);
    CHECK(chmod(dir, 0710) == 0); /* group search only: still not private */
    CHECK_RC(rpal_init(&o), -EPERM);
    CHECK(chmod(dir, 0701) == 0);
    CHECK_RC(rpal_init(&o), -EPERM);
    CHECK(chmod(dir, 0700) == 0);
    CHECK_RC(rpal_init(&o), 0); /* the same directory, made private */
    CHECK_OK(rpal_exit());

    if (geteuid() == 0) {
        snprintf(dir, sizeof dir, "%s/other", s_tmp);
        CHECK(mkdir(dir, 0700) == 0);
        CHECK(chown(dir, 65534, 65534) == 0);
        o = opts(dir);
        CHECK_RC(rpal_init(&o), -EPERM);
        CHECK_RC(rpal_slot_id(), -ENOTCONN);
    } else {
        printf("note: not root, the other-uid directory case is not run\n");
    }

    /* a symlink to a private directory is refused too (O_NOFOLLOW) */
    char target[128], link[128];
    snprintf(target, sizeof target, "%s/real", s_tmp);
    snprintf(link, sizeof link, "%s/link", s_tmp);
    CHECK(mkdir(target, 0700) == 0);
    CHECK(symlink(target, link) == 0);
    o = opts(link);
    CHECK(rpal_init(&o) < 0);
    CHECK_RC(rpal_slot_id(), -ENOTCONN);
}

/* ------------------------------------------------------- slot exhaustion */

static char s_slot_dir[128];

struct holder {
    struct test_pipe to, from; /* parent -> child ('q' quit), child -> parent (slot) */
};

static int slot_holder(void *arg)
{
    struct holder *h = arg;
    struct rpal_options o = opts(s_slot_dir);
    o.slot_count = 2;
    int rc = rpal_init(&o);
    if (rc < 0) {
        fprintf(stderr, "holder %d: rpal_init: %s\n", (int)getpid(), strerror(-rc));
        test_pipe_put(&h->from, 'E');
        return 1;
    }
    test_pipe_put(&h->from, (char)('0' + rpal_slot_id()));
    /* hold the slot until told to quit (or killed) */
    int c = test_pipe_get(&h->to, 30000);
    CHECK_OK(rpal_exit());
    return c == 'q' ? 0 : 1;
}

static void test_slot_exhaustion(void)
{
    snprintf(s_slot_dir, sizeof s_slot_dir, "%s/slots2", s_tmp);
    struct holder a, b;
    test_pipe_open(&a.to);
    test_pipe_open(&a.from);
    test_pipe_open(&b.to);
    test_pipe_open(&b.from);
    pid_t pa = test_fork(slot_holder, &a);
    int sa = test_pipe_get(&a.from, 10000);
    CHECK(sa == '0' || sa == '1');
    pid_t pb = test_fork(slot_holder, &b);
    int sb = test_pipe_get(&b.from, 10000);
    CHECK((sb == '0' || sb == '1') && sb != sa);

    /* both slots held: a third process gets -EUSERS */
    struct rpal_options o = opts(s_slot_dir);
    o.slot_count = 2;
    CHECK_RC(rpal_init(&o), -EUSERS);
    CHECK_RC(rpal_slot_id(), -ENOTCONN);
    CHECK_RC(rpal_init(&o), -EUSERS); /* and again: the failure left nothing behind */

    /* a crash frees the slot: kill a, then its slot is ours */
    CHECK(kill(pa, SIGKILL) == 0);
    CHECK(test_wait(pa, 10000) == 128 + SIGKILL);
    CHECK_RC(rpal_init(&o), 0);
    CHECK(rpal_slot_id() == sa - '0');
    CHECK_OK(rpal_exit());

    /* a clean exit frees it too */
    test_pipe_put(&b.to, 'q');
    CHECK_CHILD(pb, 10000);
    CHECK_RC(rpal_init(&o), 0);
    CHECK(rpal_slot_id() == 0); /* the lowest free slot */
    CHECK_OK(rpal_exit());
}

int main(void)
{
    clear_env();
    const char *tmp = getenv("TMPDIR");
    snprintf(s_tmp, sizeof s_tmp, "%s/rpal-init-XXXXXX", tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
    CHECK(mkdtemp(s_tmp) != NULL);
    char dir[128];
    snprintf(dir, sizeof dir, "%s/rt", s_tmp);

    /* before anything: not started */
    CHECK_RC(rpal_slot_id(), -ENOTCONN);
    CHECK_RC(rpal_exit(), -ENOTCONN);

    /* cross-process first: children are forked before this process inits */
    test_slot_exhaustion();

    test_defaults();
    test_env();
    test_bad_options(dir);
    test_lifecycle(dir);
    test_window_in_use(dir);
    test_runtime_dir_perm();

    rm_rf(s_tmp);
    printf("init: ok\n");
    return 0;
}
