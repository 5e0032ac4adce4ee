/* SPDX-License-Identifier: MIT */
/*
 * Services shared between users: a runtime directory shared by a group
 * (RPAL_RUNTIME_GROUP), per-service allowlists of uids and gids, a client's
 * list of trusted server users, and the per-service connection limit.
 *
 * Runs as root (skips otherwise). Root makes a directory mode 2770, group
 * GROUP, and joins GROUP and ROOT_ONLY_GROUP; servers run as uid/gid 65534
 * with GROUP as their supplementary group. Then:
 *  - a service that admits uid 0: root gets in only when it trusts uid 65534
 *    (otherwise its own check refuses the server, -EACCES) and calls it;
 *  - a service that admits ROOT_ONLY_GROUP: root gets in through its
 *    supplementary group (SO_PEERGROUPS), trusting the server by GROUP;
 *  - a service that admits nobody else: root is refused by the server
 *    (-EACCES on both sides) and the server keeps serving;
 *  - a service with max_conns 1: a second client is refused with -EUSERS,
 *    and gets in once the first leaves;
 *  - rpal_init refuses a shared directory that is not set up as documented,
 *    and a process that is not in the group; RPAL_RUNTIME_GROUP must name a
 *    group.
 * Every child is forked before root calls rpal_init().
 */
#include <ftw.h>
#include <grp.h>
#include <sys/stat.h>

#include "test_util.h"

#define NOBODY 65534
#define GROUP 47011           /* the group sharing the runtime directory */
#define ROOT_ONLY_GROUP 47012 /* a group root is in and 65534 is not */
#define CALLS 50

static char s_tmp[64];
static char s_dir[128];
static char s_base[32];

struct server {
    const char *suffix;
    struct rpal_service_params params;
    struct test_pipe from, to; /* reports to root / 'q' from root */
    char name[RPAL_NAME_MAX + 1];
    pid_t pid;
};

static const uint32_t s_root_uid[] = {0};
static const uint32_t s_root_only_gid[] = {ROOT_ONLY_GROUP};
static const uint32_t s_nobody_uid[] = {NOBODY};
static const uint32_t s_group_gid[] = {GROUP};

static struct server s_srv[] = {
    {.suffix = "uid", .params = {.allow = {.uids = s_root_uid, .uid_count = 1}}},
    {.suffix = "gid", .params = {.allow = {.gids = s_root_only_gid, .gid_count = 1}}},
    {.suffix = "deny"},
    {.suffix = "max1", .params = {.max_conns = 1, .allow = {.uids = s_root_uid, .uid_count = 1}}},
};
#define NSRV (sizeof s_srv / sizeof s_srv[0])

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void become_nobody(const gid_t *groups, size_t n)
{
    CHECK(setgroups(n, groups) == 0);
    CHECK(setresgid(NOBODY, NOBODY, NOBODY) == 0);
    CHECK(setresuid(NOBODY, NOBODY, NOBODY) == 0);
    CHECK(getuid() == NOBODY && geteuid() == NOBODY);
}

static char accept_code(int rc)
{
    switch (rc) {
    case 0: return 'C';
    case -EACCES: return 'A';
    case -EUSERS: return 'U';
    default: return 'H'; /* the client left first (it refused us), or another reason */
    }
}

/* A server as 65534: registers its service with its params, reports each
 * accept's result to root, answers calls (word + 1) and releases the
 * connections that end, until root sends 'q'. */
static int server(void *arg)
{
    struct server *s = arg;
    gid_t groups[] = {GROUP};
    become_nobody(groups, 1);
    test_init();
    struct rpal_service *svc;
    s->params.size = sizeof s->params;
    CHECK_OK(rpal_register_service_params(s->name, &s->params, &svc, NULL));
    int ep = rpal_epoll_create(EPOLL_CLOEXEC);
    CHECK_OK(ep);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_service_fd(svc), &ev));
    ev.data.u64 = 1;
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, s->to.rd, &ev));
    test_pipe_put(&s->from, 'r');
    for (;;) {
        struct epoll_event evs[8];
        int n = rpal_epoll_wait(ep, evs, 8, 20000);
        CHECK(n > 0);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 == 1)
                goto out;
            if (evs[i].data.u64 == 0) {
                struct rpal_conn *c;
                int rc;
                while ((rc = rpal_accept(svc, &c)) != -EAGAIN) {
                    if (rc == 0) {
                        struct epoll_event cev = {.events = 0, .data.ptr = c};
                        CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_conn_fd(c), &cev));
                    }
                    test_pipe_put(&s->from, accept_code(rc));
                }
                continue;
            }
            struct rpal_conn *c = evs[i].data.ptr;
            struct rpal_msg m;
            while (rpal_recv(c, &m) == 0) {
                struct rpal_msg r = {.words = {m.words[0] + 1}};
                CHECK_OK(rpal_reply(c, m.id, &r));
            }
            if (evs[i].events & EPOLLRPALHUP) {
                CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_DEL, rpal_conn_fd(c), NULL));
                CHECK_OK(rpal_release_service(c));
            }
        }
    }
out:
    CHECK_OK(rpal_unregister_service(svc));
    CHECK_OK(rpal_epoll_close(ep));
    CHECK_OK(rpal_exit());
    return 0;
}

static void expect_accept(struct server *s, char want)
{
    int got = test_pipe_get(&s->from, 10000);
    if (got != want) {
        fprintf(stderr, "service %s: accept reported '%c', want '%c'\n", s->name, got, want);
        exit(TEST_FAIL);
    }
}

static struct rpal_conn *connect_trusting(const char *name, const struct rpal_access *trust,
                                          int *rc)
{
    struct rpal_request_params p = {.size = sizeof p};
    if (trust)
        p.trust = *trust;
    struct rpal_conn *c = NULL;
    *rc = rpal_request_service_params(name, &p, &c);
    return c;
}

static void calls(struct rpal_conn *c)
{
    struct rpal_peer_info info;
    CHECK_OK(rpal_conn_info(c, &info));
    CHECK(info.uid == NOBODY && info.gid == NOBODY);
    for (uint64_t i = 0; i < CALLS; i++) {
        struct rpal_msg req = {.words = {i * 7}}, rep;
        CHECK_OK(rpal_call(c, &req, &rep, 5000));
        CHECK(rep.words[0] == i * 7 + 1);
    }
}

/* rpal_init of a child (so root stays uninitialised) with the environment
 * as it is; returns its result through the exit status. */
static int init_rc(void *arg)
{
    struct rpal_options o;
    int rc = rpal_options_init(&o);
    if (rc == 0)
        rc = rpal_init(&o);
    return rc == 0 ? 0 : (-rc & 0xff);
}

static int init_as_outsider(void *arg)
{
    become_nobody(NULL, 0); /* not in GROUP */
    return init_rc(arg);
}

static void expect_init(int (*fn)(void *), int want_errno, const char *what)
{
    int got = test_wait(test_fork(fn, NULL), 10000);
    if (got != want_errno) {
        fprintf(stderr, "rpal_init with %s: exit %d, want %d (%s)\n", what, got, want_errno,
                strerror(want_errno));
        exit(TEST_FAIL);
    }
}

static void dir_checks(void)
{
    /* the directory as set up: fine for root (in GROUP) */
    expect_init(init_rc, 0, "a good shared directory");
    expect_init(init_as_outsider, EACCES, "a process outside the group"); /* cannot enter it */
    CHECK(chmod(s_dir, 02771) == 0);
    expect_init(init_rc, EPERM, "a shared directory open to others");
    CHECK(chmod(s_dir, 0770) == 0);
    expect_init(init_rc, EPERM, "a shared directory without setgid");
    CHECK(chmod(s_dir, 02770) == 0);
    CHECK(chown(s_dir, NOBODY, GROUP) == 0);
    expect_init(init_rc, EPERM, "a shared directory owned by another user");
    CHECK(chown(s_dir, 0, GROUP) == 0);
    CHECK(unsetenv("RPAL_RUNTIME_GROUP") == 0);
    expect_init(init_rc, EPERM, "a group directory used as a private one");
    CHECK(setenv("RPAL_RUNTIME_GROUP", "no-such-group-rpal", 1) == 0);
    expect_init(init_rc, EINVAL, "RPAL_RUNTIME_GROUP naming no group");
    char g[16];
    snprintf(g, sizeof g, "%d", GROUP);
    CHECK(setenv("RPAL_RUNTIME_GROUP", g, 1) == 0);
}

int main(void)
{
    if (geteuid() != 0)
        test_skip("needs root to run servers as another uid (65534) and to make groups");
    snprintf(s_tmp, sizeof s_tmp, "/tmp/rpal-accg-XXXXXX");
    CHECK(mkdtemp(s_tmp) != NULL);
    CHECK(chmod(s_tmp, 0711) == 0); /* 65534 walks down to the shared directory */
    snprintf(s_dir, sizeof s_dir, "%s/shared", s_tmp);
    CHECK(mkdir(s_dir, 0700) == 0);
    CHECK(chown(s_dir, 0, GROUP) == 0);
    CHECK(chmod(s_dir, 02770) == 0);
    gid_t mine[] = {GROUP, ROOT_ONLY_GROUP};
    CHECK(setgroups(2, mine) == 0);
    CHECK(setenv("RPAL_RUNTIME_DIR", s_dir, 1) == 0);
    char g[16];
    snprintf(g, sizeof g, "%d", GROUP);
    CHECK(setenv("RPAL_RUNTIME_GROUP", g, 1) == 0);

    dir_checks();

    snprintf(s_base, sizeof s_base, "accg.%d", (int)getpid());
    for (size_t i = 0; i < NSRV; i++) {
        struct server *s = &s_srv[i];
        snprintf(s->name, sizeof s->name, "%s.%s", s_base, s->suffix);
        test_pipe_open(&s->from);
        test_pipe_open(&s->to);
        s->pid = test_fork(server, s);
    }
    for (size_t i = 0; i < NSRV; i++)
        if (test_pipe_get(&s_srv[i].from, 10000) != 'r') {
            fprintf(stderr, "server %s did not start (exit %d)\n", s_srv[i].name,
                    test_wait(s_srv[i].pid, 5000));
            return TEST_FAIL;
        }
    test_init();

    /* the registry's files are the group's: root checks the 65534 servers'
     * slot locks, and they check root's */
    struct stat st;
    char path[256];
    snprintf(path, sizeof path, "%s/services/%s.sock", s_dir, s_srv[0].name);
    CHECK(stat(path, &st) == 0 && st.st_uid == NOBODY && st.st_gid == GROUP &&
          (st.st_mode & 0777) == 0660);

    struct rpal_access trust_nobody = {.uids = s_nobody_uid, .uid_count = 1};
    struct rpal_access trust_group = {.gids = s_group_gid, .gid_count = 1};
    int rc;

    /* admitted by uid, but root does not trust the server's uid by default */
    struct server *su = &s_srv[0];
    CHECK(connect_trusting(su->name, NULL, &rc) == NULL);
    CHECK_RC(rc, -EACCES);
    expect_accept(su, 'H'); /* the client left without a hello */
    struct rpal_conn *c = connect_trusting(su->name, &trust_nobody, &rc);
    CHECK_OK(rc);
    expect_accept(su, 'C');
    calls(c);
    CHECK_OK(rpal_release_service(c));

    /* admitted by a supplementary group; the server trusted by its group */
    struct server *sg = &s_srv[1];
    c = connect_trusting(sg->name, &trust_group, &rc);
    CHECK_OK(rc);
    expect_accept(sg, 'C');
    calls(c);
    CHECK_OK(rpal_release_service(c));

    /* a service that admits only its own uid refuses root, on both sides */
    struct server *sd = &s_srv[2];
    CHECK(connect_trusting(sd->name, &trust_nobody, &rc) == NULL);
    CHECK_RC(rc, -EACCES);
    expect_accept(sd, 'A');
    CHECK(connect_trusting(sd->name, &trust_nobody, &rc) == NULL); /* and again: still up */
    CHECK_RC(rc, -EACCES);
    expect_accept(sd, 'A');

    /* one connection at a time */
    struct server *sm = &s_srv[3];
    struct rpal_conn *first = connect_trusting(sm->name, &trust_nobody, &rc);
    CHECK_OK(rc);
    expect_accept(sm, 'C');
    CHECK(connect_trusting(sm->name, &trust_nobody, &rc) == NULL);
    CHECK_RC(rc, -EUSERS);
    expect_accept(sm, 'U');
    calls(first); /* the first one is unharmed */
    CHECK_OK(rpal_release_service(first));
    /* the server frees the place when it sees the hang-up: retry until then */
    int64_t deadline = test_now_ns() + 10000000000ll;
    for (;;) {
        c = connect_trusting(sm->name, &trust_nobody, &rc);
        if (rc == 0)
            break;
        CHECK_RC(rc, -EUSERS);
        expect_accept(sm, 'U');
        CHECK(test_now_ns() < deadline);
    }
    expect_accept(sm, 'C');
    calls(c);
    CHECK_OK(rpal_release_service(c));

    /* bad params */
    struct rpal_request_params bad = {.size = 4};
    CHECK_RC(rpal_request_service_params(su->name, &bad, &c), -EINVAL);
    struct rpal_request_params nolist = {.size = sizeof nolist, .trust = {.uid_count = 1}};
    CHECK_RC(rpal_request_service_params(su->name, &nolist, &c), -EINVAL);
    struct rpal_service_params sbad = {.size = 4};
    struct rpal_service *svc;
    CHECK_RC(rpal_register_service_params("accg-bad", &sbad, &svc, NULL), -EINVAL);

    for (size_t i = 0; i < NSRV; i++) {
        test_pipe_put(&s_srv[i].to, 'q');
        CHECK_CHILD(s_srv[i].pid, 20000);
    }
    CHECK_OK(rpal_exit());
    nftw(s_tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    printf("access_group: ok\n");
    return 0;
}
