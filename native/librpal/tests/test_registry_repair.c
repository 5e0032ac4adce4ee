/* SPDX-License-Identifier: MIT */
/*
 * A registration that vanishes, and a connection given up on:
 *  - rpal_service_check() returns 0 while the entry is intact;
 *  - the runtime directory is removed (rm -rf) while a server runs: clients
 *    get -ENOENT; the server's next rpal_service_check() returns 1 (directory,
 *    slot file and entry made again) and a client connects to the same
 *    server, whose older connection still carries calls;
 *  - meanwhile a second process cannot register the name (-EADDRINUSE);
 *  - only the service's entry is removed: restored the same way;
 *  - rpal_conn_shutdown() on a call the server never answers: the caller's
 *    call fails with -ECONNRESET at once, the server's late reply returns
 *    -ECONNRESET, and the connection is released afterwards as usual.
 *
 * Every child is forked before this process calls rpal_init().
 */
#include <ftw.h>
#include <sys/stat.h>

#include "test_util.h"

#define ANSWER_NEVER 42 /* a call the server does not answer: it shuts the connection down */

static char s_tmp[64];
static char s_rt[128];
static char s_name[RPAL_NAME_MAX + 1];

struct peer {
    struct test_pipe to, from; /* parent -> child, child -> parent */
    pid_t pid;
};
static struct peer s_server, s_second;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static bool exists(const char *rel)
{
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", s_rt, rel);
    return stat(path, &st) == 0;
}

/*
 * The server: registers s_name, then loops: checks its registration (and
 * reports 'R' each time it was restored), accepts clients and answers their
 * calls (words[0] + 1, words[1] = pid), except ANSWER_NEVER, for which it
 * shuts the connection down and then tries its late reply. On 'p' it answers
 * 'p' and does nothing until 'c' (so that the parent removes files without
 * racing its repair). Ends when the parent writes 'q'.
 */
static int server(void *arg)
{
    struct peer *p = arg;
    test_init();
    int ep;
    struct rpal_service *svc = test_serve(s_name, &ep);
    CHECK_RC(rpal_service_check(svc), 0);
    CHECK_RC(rpal_service_check(NULL), -EINVAL);
    test_pipe_put(&p->from, 'r');
    struct rpal_conn *conns[8];
    int nconns = 0;
    for (;;) {
        struct pollfd q = {.fd = p->to.rd, .events = POLLIN};
        if (poll(&q, 1, 0) == 1) {
            int cmd = test_pipe_get(&p->to, 0);
            if (cmd == 'q')
                break;
            CHECK(cmd == 'p');
            test_pipe_put(&p->from, 'p');
            test_pipe_expect(&p->to, 'c', 30000);
        }
        int rc = rpal_service_check(svc);
        CHECK(rc == 0 || rc == 1);
        if (rc == 1)
            test_pipe_put(&p->from, 'R');
        struct epoll_event ev[8];
        int n = rpal_epoll_wait(ep, ev, 8, 20);
        CHECK(n >= 0);
        struct rpal_conn *c;
        while ((rc = rpal_accept(svc, &c)) == 0) {
            CHECK(nconns < 8);
            conns[nconns++] = c;
            struct epoll_event cev = {.events = 0, .data.ptr = c};
            CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_conn_fd(c), &cev));
        }
        for (int i = 0; i < nconns; i++) {
            struct rpal_msg m;
            while (rpal_recv(conns[i], &m) == 0) {
                struct rpal_msg r = {.words = {m.words[0] + 1, (uint64_t)getpid()}};
                if (m.words[0] == ANSWER_NEVER) {
                    CHECK_OK(rpal_conn_shutdown(conns[i]));
                    CHECK_OK(rpal_conn_shutdown(conns[i])); /* idempotent */
                    CHECK_RC(rpal_reply(conns[i], m.id, &r), -ECONNRESET);
                    break;
                }
                CHECK_OK(rpal_reply(conns[i], m.id, &r));
            }
        }
    }
    for (int i = 0; i < nconns; i++) {
        CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_DEL, rpal_conn_fd(conns[i]), NULL));
        CHECK_OK(rpal_release_service(conns[i]));
    }
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_DEL, rpal_service_fd(svc), NULL));
    CHECK_OK(rpal_unregister_service(svc));
    CHECK_OK(rpal_epoll_close(ep));
    CHECK_OK(rpal_exit());
    return 0;
}

/* Starts in the runtime directory the server restored; its registration of
 * the live name fails. */
static int second_server(void *arg)
{
    struct peer *p = arg;
    test_pipe_expect(&p->to, 'a', 30000);
    test_init();
    struct rpal_service *svc;
    CHECK_RC(rpal_register_service(s_name, &svc, NULL), -EADDRINUSE);
    test_pipe_put(&p->from, 'E');
    CHECK_OK(rpal_exit());
    return 0;
}

static void call_ok(struct rpal_conn *c, uint64_t x)
{
    struct rpal_msg req = {.words = {x}}, rep;
    CHECK_OK(rpal_call(c, &req, &rep, 5000));
    CHECK(rep.words[0] == x + 1);
    CHECK(rep.words[1] == (uint64_t)s_server.pid);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(s_tmp, sizeof s_tmp, "%s/rpal-rep-XXXXXX",
             tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
    CHECK(mkdtemp(s_tmp) != NULL);
    snprintf(s_rt, sizeof s_rt, "%s/rt", s_tmp);
    CHECK(setenv("RPAL_RUNTIME_DIR", s_rt, 1) == 0);
    snprintf(s_name, sizeof s_name, "%s", test_service_name("repair"));

    struct peer *all[] = {&s_server, &s_second};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        test_pipe_open(&all[i]->to);
        test_pipe_open(&all[i]->from);
    }
    s_server.pid = test_fork(server, &s_server);
    s_second.pid = test_fork(second_server, &s_second);
    test_pipe_expect(&s_server.from, 'r', 10000);

    test_init();
    struct rpal_conn *old = test_connect(s_name, 5000);
    call_ok(old, 1);

    /* rm -rf of the whole directory: nobody serves the name until the server notices */
    test_pipe_put(&s_server.to, 'p');
    test_pipe_expect(&s_server.from, 'p', 10000);
    CHECK(nftw(s_rt, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0);
    CHECK(!exists("."));
    test_pipe_put(&s_server.to, 'c');
    test_pipe_expect(&s_server.from, 'R', 10000);
    char rel[256];
    snprintf(rel, sizeof rel, "services/%s.sock", s_name);
    CHECK(exists(rel));
    struct rpal_conn *fresh = test_connect(s_name, 5000); /* restores our own slot file too */
    call_ok(fresh, 2);
    call_ok(old, 3);
    snprintf(rel, sizeof rel, "slots/%d", rpal_slot_id());
    CHECK(exists(rel));

    /* a second server in the restored directory: the name is taken */
    test_pipe_put(&s_second.to, 'a');
    test_pipe_expect(&s_second.from, 'E', 30000);
    CHECK_CHILD(s_second.pid, 10000);

    /* only the entry goes */
    test_pipe_put(&s_server.to, 'p');
    test_pipe_expect(&s_server.from, 'p', 10000);
    snprintf(rel, sizeof rel, "%s/services/%s.sock", s_rt, s_name);
    CHECK(unlink(rel) == 0);
    snprintf(rel, sizeof rel, "%s/services/%s.lock", s_rt, s_name);
    CHECK(unlink(rel) == 0);
    test_pipe_put(&s_server.to, 'c');
    test_pipe_expect(&s_server.from, 'R', 10000);
    CHECK_OK(rpal_release_service(fresh));
    fresh = test_connect(s_name, 5000);
    call_ok(fresh, 4);

    /* a call the server gives up on: the caller learns at once */
    struct rpal_msg req = {.words = {ANSWER_NEVER}}, rep;
    int64_t start = test_now_ns();
    CHECK_RC(rpal_call(fresh, &req, &rep, 10000), -ECONNRESET);
    CHECK(test_now_ns() - start < 5000000000ll);
    call_ok(old, 5); /* the other connection is untouched */

    CHECK_OK(rpal_release_service(fresh));
    CHECK_OK(rpal_release_service(old));
    test_pipe_put(&s_server.to, 'q');
    CHECK_CHILD(s_server.pid, 10000);
    CHECK_OK(rpal_exit());
    nftw(s_tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    printf("registry repair: ok\n");
    return 0;
}
