/* SPDX-License-Identifier: MIT */
/*
 * rpal_call_submit_spin across two processes, with an epoll waiter thread
 * watching the connection for completions all along (as a .NET client's
 * completion thread does): calls answered within the spin complete on the
 * caller's thread and never make the waiter park on the connection (so the
 * server sends no wake-up); a call that outlasts the spin becomes a
 * submitted call whose completion the waiter reports; the peer's death ends
 * a spinning call with -ECONNRESET; bad arguments.
 */
#include <pthread.h>

#include "test_util.h"

enum { OP_ECHO = 1, OP_HOLD = 2, OP_RELEASE = 3, OP_DIE = 4 };

static const char *s_name;
static struct test_pipe s_ready;
static struct rpal_conn *s_conn;
static int s_ep;
static _Atomic int s_stop;
static _Atomic int s_reply_events;

static int server(void *arg)
{
    (void)arg;
    test_init();
    int ep;
    struct rpal_service *svc = test_serve(s_name, &ep);
    test_pipe_put(&s_ready, 'r');
    struct rpal_conn *c = test_accept(svc, ep, 10000);
    struct epoll_event ev = {.events = EPOLLRPALIN, .data.ptr = c};
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_MOD, rpal_conn_fd(c), &ev));
    uint64_t held = 0;
    for (;;) {
        uint32_t e = test_wait_conn(ep, EPOLLRPALIN | EPOLLRPALHUP, 20000);
        CHECK(e != 0);
        if (e & EPOLLRPALHUP)
            break;
        struct rpal_msg m;
        while (rpal_recv(c, &m) == 0) {
            switch (m.words[0]) {
            case OP_ECHO:
                CHECK_OK(rpal_reply(c, m.id, &(struct rpal_msg){.words = {m.words[1] + 1}}));
                break;
            case OP_HOLD:
                held = m.id;
                break;
            case OP_RELEASE: /* a one-way message */
                CHECK(held != 0);
                CHECK_OK(rpal_reply(c, held, &(struct rpal_msg){.words = {42}}));
                held = 0;
                break;
            case OP_DIE:
                _exit(0); /* the caller spins on: it must notice */
            default:
                CHECK(0);
            }
        }
    }
    return 0;
}

/* The completion thread's stand-in: waits for EPOLLRPALREPLY, counts it, takes nothing. */
static void *waiter(void *arg)
{
    (void)arg;
    while (!s_stop) {
        struct epoll_event ev[4];
        int n = rpal_epoll_wait(s_ep, ev, 4, 50);
        CHECK(n >= 0);
        for (int i = 0; i < n; i++)
            if (ev[i].events & EPOLLRPALREPLY) {
                s_reply_events++;
                /* leave it to the main thread; do not spin on it meanwhile */
                struct timespec ts = {0, 1000000};
                nanosleep(&ts, NULL);
            }
    }
    return NULL;
}

int main(void)
{
    s_name = test_service_name("submitspin");
    test_pipe_open(&s_ready);
    pid_t pid = test_fork(server, NULL);
    CHECK(test_pipe_get(&s_ready, 10000) == 'r');
    test_init();
    s_conn = test_connect(s_name, 5000);
    s_ep = rpal_epoll_create(EPOLL_CLOEXEC);
    CHECK_OK(s_ep);
    struct epoll_event ev = {.events = EPOLLRPALREPLY, .data.u64 = 7};
    CHECK_OK(rpal_epoll_ctl(s_ep, EPOLL_CTL_ADD, rpal_conn_fd(s_conn), &ev));
    pthread_t t;
    CHECK(pthread_create(&t, NULL, waiter, NULL) == 0);

    struct rpal_msg req = {.words = {OP_ECHO, 0}};
    struct rpal_completion done;
    uint64_t id;
    CHECK_RC(rpal_call_submit_spin(NULL, &req, 0, -1, &id, &done), -EINVAL);
    CHECK_RC(rpal_call_submit_spin(s_conn, NULL, 0, -1, &id, &done), -EINVAL);
    CHECK_RC(rpal_call_submit_spin(s_conn, &req, 0, -1, &id, NULL), -EINVAL);

    /* answered within a 1 s spin: done here, the waiter never parks on the connection */
    struct rpal_conn_stats before, after;
    CHECK_OK(rpal_conn_stats(s_conn, &before));
    for (uint64_t i = 0; i < 1000; i++) {
        req.words[1] = i;
        memset(&done, 0xff, sizeof done);
        id = 0;
        CHECK_RC(rpal_call_submit_spin(s_conn, &req, 100 + i, 1000000000, &id, &done), 1);
        CHECK(id != 0);
        CHECK(done.user_data == 100 + i && done.res == 0 && done.reserved == 0);
        CHECK(done.reply.words[0] == i + 1 && done.reply.data == NULL);
    }
    CHECK_OK(rpal_conn_stats(s_conn, &after));
    CHECK(after.spins - before.spins == 1000);
    CHECK(after.parks == before.parks); /* nobody slept flagged on the connection: no wake-up due */
    CHECK(s_reply_events == 0);
    CHECK_RC(rpal_call_complete(s_conn, &done), -EAGAIN); /* nothing was queued */

    /* outlasts a 1 ms spin: a submitted call, completed through the waiter's set */
    req.words[0] = OP_HOLD;
    CHECK_RC(rpal_call_submit_spin(s_conn, &req, 555, 1000000, &id, &done), 0);
    CHECK(id != 0);
    CHECK_RC(rpal_call_complete(s_conn, &done), -EAGAIN);
    CHECK_OK(rpal_send(s_conn, &(struct rpal_msg){.words = {OP_RELEASE}}));
    int64_t deadline = test_now_ns() + 10000000000;
    while (s_reply_events == 0)
        CHECK(test_now_ns() < deadline);
    int rc;
    while ((rc = rpal_call_complete(s_conn, &done)) == -EAGAIN)
        CHECK(test_now_ns() < deadline);
    CHECK_OK(rc);
    CHECK(done.user_data == 555 && done.res == 0 && done.reply.words[0] == 42);
    s_stop = 1;
    CHECK(pthread_join(t, NULL) == 0);

    /* the server dies while the caller spins (10 s budget): the call ends with -ECONNRESET */
    req.words[0] = OP_DIE;
    int64_t t0 = test_now_ns();
    CHECK_RC(rpal_call_submit_spin(s_conn, &req, 9, 10000000000, &id, &done), 1);
    CHECK(done.user_data == 9 && done.res == -ECONNRESET);
    int64_t noticed_ms = (test_now_ns() - t0) / 1000000;
    CHECK(noticed_ms < 5000);
    CHECK_CHILD(pid, 10000);
    CHECK_RC(rpal_call_submit_spin(s_conn, &req, 10, -1, &id, &done), -ECONNRESET);

    CHECK_OK(rpal_epoll_close(s_ep));
    CHECK_OK(rpal_release_service(s_conn));
    CHECK_OK(rpal_exit());
    printf("submit_spin: 1000 answered within the spin without a wake-up, one handed to the "
           "epoll set, a dead server noticed in %lld ms\n", (long long)noticed_ms);
    return 0;
}
