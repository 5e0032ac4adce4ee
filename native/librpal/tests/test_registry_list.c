/* SPDX-License-Identifier: MIT */
/*
 * rpal_runtime_dir and rpal_list_services: what tools see of a registry.
 *  - rpal_runtime_dir chooses as rpal_init does: RPAL_RUNTIME_DIR, else
 *    /tmp/rpal-gGID for a runtime group (XDG_RUNTIME_DIR is per user and not
 *    used then), else $XDG_RUNTIME_DIR/rpal, else /tmp/rpal-UID; -ERANGE for
 *    a small buffer, -EINVAL for a malformed RPAL_RUNTIME_GROUP;
 *  - argument errors; -ENOENT for a directory without a registry;
 *  - a live server's two services (pid, slot, key, one connection each once
 *    this process connects), a killed server's stale entry (its pid, not
 *    live), files that are no service entry (skipped) and an entry with a
 *    malformed record (pid 0, not live), sorted by name; a larger entry size
 *    (zeroed tail) and too few entries (the count tells);
 *  - this process's own service is live, and listing it does not drop its
 *    lock (POSIX locks go with any close of the file): another process still
 *    cannot register the name;
 *  - a directory shared by this process's group (mode 2770), listed by path.
 * Every child is forked before this process calls rpal_init().
 */
#include <grp.h>
#include <sys/stat.h>

#include "test_util.h"

struct server {
    struct test_pipe from, to; /* 'r' ready / commands */
    pid_t pid;
};

static char s_a[RPAL_NAME_MAX + 1], s_b[RPAL_NAME_MAX + 1], s_dead[RPAL_NAME_MAX + 1];
static char s_own[RPAL_NAME_MAX + 1], s_junk[RPAL_NAME_MAX + 1], s_shared_name[RPAL_NAME_MAX + 1];
static char s_shared_dir[64];
static uint64_t s_key_a;
static struct server s_live, s_killed, s_shared;

static void set_env(const char *name, const char *value)
{
    if (value)
        CHECK(setenv(name, value, 1) == 0);
    else
        CHECK(unsetenv(name) == 0);
}

static void expect_dir(const char *want)
{
    char buf[256];
    int n = rpal_runtime_dir(buf, sizeof buf);
    if (n < 0 || strcmp(buf, want) != 0 || (size_t)n != strlen(want)) {
        fprintf(stderr, "rpal_runtime_dir: %d '%s', want '%s'\n", n, n >= 0 ? buf : "", want);
        exit(TEST_FAIL);
    }
}

static void runtime_dir_choice(void)
{
    char *saved[3];
    const char *vars[3] = {"RPAL_RUNTIME_DIR", "RPAL_RUNTIME_GROUP", "XDG_RUNTIME_DIR"};
    for (int i = 0; i < 3; i++)
        saved[i] = getenv(vars[i]) ? strdup(getenv(vars[i])) : NULL;

    char want[64], gid[32];
    snprintf(gid, sizeof gid, "%u", (unsigned)getegid());
    set_env("RPAL_RUNTIME_DIR", "/some/where");
    set_env("RPAL_RUNTIME_GROUP", gid);
    set_env("XDG_RUNTIME_DIR", "/run/user/x");
    expect_dir("/some/where");
    set_env("RPAL_RUNTIME_DIR", ""); /* empty: not set */
    snprintf(want, sizeof want, "/tmp/rpal-g%u", (unsigned)getegid());
    expect_dir(want);
    struct group *g = getgrgid(getegid());
    if (g) { /* a group name works as its gid does */
        set_env("RPAL_RUNTIME_GROUP", g->gr_name);
        expect_dir(want);
    }
    set_env("RPAL_RUNTIME_GROUP", NULL);
    expect_dir("/run/user/x/rpal");
    set_env("XDG_RUNTIME_DIR", NULL);
    snprintf(want, sizeof want, "/tmp/rpal-%u", (unsigned)geteuid());
    expect_dir(want);

    char small[8];
    CHECK_RC(rpal_runtime_dir(small, sizeof small), -ERANGE);
    CHECK_RC(rpal_runtime_dir(NULL, 64), -EINVAL);
    set_env("RPAL_RUNTIME_GROUP", "no-such-group-rpal-list");
    CHECK_RC(rpal_runtime_dir(small, sizeof small), -EINVAL);
    struct rpal_service_entry e;
    CHECK_RC(rpal_list_services(NULL, &e, sizeof e, 1), -EINVAL);

    for (int i = 0; i < 3; i++) {
        set_env(vars[i], saved[i]);
        free(saved[i]);
    }
}

/* Registers the names it is given, says 'r', then serves connections until
 * it reads 'q' (or is killed). On 'o' it tries to register s_own, which this
 * (parent) process holds, and answers 'y' when that fails with -EADDRINUSE. */
static int serve(struct server *me, const char *const *names, int count,
                 const struct rpal_options *o)
{
    if (o)
        CHECK_OK(rpal_init(o));
    else
        test_init();
    struct rpal_service *svc[2];
    for (int i = 0; i < count; i++)
        CHECK_OK(rpal_register_service(names[i], &svc[i], i == 0 ? &s_key_a : NULL));
    CHECK(write(me->from.wr, &s_key_a, sizeof s_key_a) == sizeof s_key_a);
    test_pipe_put(&me->from, 'r');
    struct rpal_conn *conns[8];
    int nconns = 0;
    for (;;) {
        struct pollfd p[3] = {{.fd = me->to.rd, .events = POLLIN}};
        for (int i = 0; i < count; i++)
            p[i + 1] = (struct pollfd){.fd = rpal_service_fd(svc[i]), .events = POLLIN};
        CHECK(poll(p, (nfds_t)count + 1, 30000) > 0);
        for (int i = 0; i < count; i++) {
            struct rpal_conn *c;
            while (rpal_accept(svc[i], &c) == 0) {
                CHECK(nconns < 8);
                conns[nconns++] = c;
            }
        }
        if (p[0].revents) {
            int cmd = test_pipe_get(&me->to, 0);
            if (cmd == 'o') {
                struct rpal_service *stolen;
                CHECK_RC(rpal_register_service(s_own, &stolen, NULL), -EADDRINUSE);
                test_pipe_put(&me->from, 'y');
            } else {
                break;
            }
        }
    }
    for (int i = 0; i < nconns; i++)
        CHECK_OK(rpal_release_service(conns[i]));
    CHECK_OK(rpal_exit());
    return 0;
}

static int live_server(void *arg)
{
    (void)arg;
    const char *names[] = {s_a, s_b};
    return serve(&s_live, names, 2, NULL);
}

static int killed_server(void *arg)
{
    (void)arg;
    const char *names[] = {s_dead};
    return serve(&s_killed, names, 1, NULL);
}

static int shared_server(void *arg)
{
    (void)arg;
    struct rpal_options o;
    CHECK_OK(rpal_options_init(&o));
    o.arena_size = 16u << 20;
    o.spin_ns = 20000;
    o.runtime_dir = s_shared_dir;
    o.runtime_group = getegid();
    const char *names[] = {s_shared_name};
    return serve(&s_shared, names, 1, &o);
}

static void start(struct server *s, int (*fn)(void *))
{
    test_pipe_open(&s->from);
    test_pipe_open(&s->to);
    s->pid = test_fork(fn, NULL);
}

static uint64_t ready(struct server *s)
{
    uint64_t key = 0;
    struct pollfd p = {.fd = s->from.rd, .events = POLLIN};
    CHECK(poll(&p, 1, 10000) == 1 && read(s->from.rd, &key, sizeof key) == sizeof key);
    test_pipe_expect(&s->from, 'r', 10000);
    return key;
}

/* The entry named name among n, or fails. */
static const struct rpal_service_entry *entry(const struct rpal_service_entry *e, int n,
                                              const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(e[i].name, name) == 0)
            return &e[i];
    fprintf(stderr, "no entry %s among %d\n", name, n);
    exit(TEST_FAIL);
}

static void write_file(const char *dir, const char *name, const char *content)
{
    char path[512];
    snprintf(path, sizeof path, "%s/services/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(content, f);
    CHECK(fclose(f) == 0);
}

int main(void)
{
    runtime_dir_choice();
    /* a directory of our own: ctest may share one between the programs */
    char dir[] = "/tmp/rpal-list-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    set_env("RPAL_RUNTIME_DIR", dir);

    /* argument errors, and directories without a registry */
    struct rpal_service_entry one;
    CHECK_RC(rpal_list_services(dir, &one, 8, 1), -EINVAL);
    CHECK_RC(rpal_list_services(dir, NULL, sizeof one, 1), -EINVAL);
    char empty[] = "/tmp/rpal-list-XXXXXX";
    CHECK(mkdtemp(empty) != NULL);
    CHECK_RC(rpal_list_services(empty, NULL, sizeof one, 0), -ENOENT);
    CHECK(rmdir(empty) == 0);
    CHECK_RC(rpal_list_services(empty, NULL, sizeof one, 0), -ENOENT);

    snprintf(s_a, sizeof s_a, "list-a.%d", (int)getpid());
    snprintf(s_b, sizeof s_b, "list-b.%d", (int)getpid());
    snprintf(s_dead, sizeof s_dead, "list-dead.%d", (int)getpid());
    snprintf(s_own, sizeof s_own, "list-own.%d", (int)getpid());
    snprintf(s_junk, sizeof s_junk, "list-junk.%d", (int)getpid());
    snprintf(s_shared_name, sizeof s_shared_name, "list-shared.%d", (int)getpid());
    snprintf(s_shared_dir, sizeof s_shared_dir, "/tmp/rpal-list-shared-XXXXXX");
    CHECK(mkdtemp(s_shared_dir) != NULL);
    CHECK(chmod(s_shared_dir, 02770) == 0);

    start(&s_live, live_server);
    start(&s_killed, killed_server);
    start(&s_shared, shared_server);
    uint64_t key_a = ready(&s_live);
    ready(&s_killed);
    ready(&s_shared);
    kill(s_killed.pid, SIGKILL);
    CHECK(test_wait(s_killed.pid, 10000) == 128 + SIGKILL);

    /* files that are no entry, and an entry whose record is not one */
    write_file(dir, ".hidden.lock", "1 2 0000000000000003\n");
    write_file(dir, "bad name.lock", "1 2 0000000000000003\n");
    write_file(dir, "notes.txt", "");
    char junk[RPAL_NAME_MAX + 16];
    snprintf(junk, sizeof junk, "%s.lock", s_junk);
    write_file(dir, junk, "12 x 0\n");

    /* before this process starts: the directory from the environment */
    struct rpal_service_entry e[16];
    int n = rpal_list_services(NULL, e, sizeof e[0], 16);
    CHECK_OK(n);
    CHECK(n == 4);
    for (int i = 1; i < n; i++)
        CHECK(strcmp(e[i - 1].name, e[i].name) < 0);
    const struct rpal_service_entry *a = entry(e, n, s_a), *b = entry(e, n, s_b);
    CHECK(a->size == sizeof *a && a->flags == RPAL_SERVICE_LIVE && a->pid == s_live.pid);
    CHECK(a->slot >= 0 && a->slot == b->slot && a->key == key_a && a->key != 0);
    CHECK(b->flags == RPAL_SERVICE_LIVE && b->pid == s_live.pid && b->key != a->key);
    CHECK(a->connections == 0 && b->connections == 0);
    const struct rpal_service_entry *d = entry(e, n, s_dead);
    CHECK(d->flags == 0 && d->pid == s_killed.pid && d->slot >= 0 && d->connections == 0);
    const struct rpal_service_entry *j = entry(e, n, s_junk);
    CHECK(j->flags == 0 && j->pid == 0 && j->slot == -1 && j->key == 0);

    /* a larger entry: the tail is zeroed; fewer entries than there are */
    struct big {
        struct rpal_service_entry e;
        uint64_t later[2];
    } big[2];
    memset(big, 0xff, sizeof big);
    CHECK_RC(rpal_list_services(dir, &big[0].e, sizeof big[0], 1), 4);
    CHECK(big[0].e.size == sizeof big[0].e && big[0].later[0] == 0 && big[0].later[1] == 0);
    CHECK(strcmp(big[0].e.name, e[0].name) == 0);
    CHECK(big[1].e.size == 0xffffffffu); /* untouched */
    CHECK_RC(rpal_list_services(dir, NULL, sizeof e[0], 0), 4);

    /* started: one connection to a, and a service of our own */
    test_init();
    struct rpal_conn *c = test_connect(s_a, 10000);
    struct rpal_service *own;
    uint64_t own_key;
    CHECK_OK(rpal_register_service(s_own, &own, &own_key));
    n = rpal_list_services(NULL, e, sizeof e[0], 16);
    CHECK(n == 5);
    a = entry(e, n, s_a);
    CHECK(a->flags == RPAL_SERVICE_LIVE && a->connections == 1);
    CHECK(entry(e, n, s_b)->connections == 0);
    const struct rpal_service_entry *o = entry(e, n, s_own);
    CHECK(o->flags == RPAL_SERVICE_LIVE && o->pid == getpid() && o->slot == rpal_slot_id());
    CHECK(o->key == own_key && o->connections == 0);
    /* our lock survived the listing */
    test_pipe_put(&s_live.to, 'o');
    test_pipe_expect(&s_live.from, 'y', 10000);
    CHECK_OK(rpal_service_check(own));

    /* a directory shared by the group, by path */
    n = rpal_list_services(s_shared_dir, e, sizeof e[0], 16);
    CHECK(n == 1);
    CHECK(strcmp(e[0].name, s_shared_name) == 0 && e[0].flags == RPAL_SERVICE_LIVE);
    CHECK(e[0].pid == s_shared.pid && e[0].slot == 0);

    CHECK_OK(rpal_release_service(c));
    CHECK_OK(rpal_unregister_service(own));
    test_pipe_put(&s_live.to, 'q');
    test_pipe_put(&s_shared.to, 'q');
    CHECK_CHILD(s_live.pid, 10000);
    CHECK_CHILD(s_shared.pid, 10000);
    /* unregistered: the entries stay, no longer live */
    n = rpal_list_services(NULL, e, sizeof e[0], 16);
    CHECK(n == 5);
    for (int i = 0; i < n; i++)
        CHECK(e[i].flags == 0);
    CHECK_OK(rpal_exit());
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", s_shared_dir, dir);
    CHECK(system(cmd) == 0);
    printf("pass\n");
    return TEST_PASS;
}
