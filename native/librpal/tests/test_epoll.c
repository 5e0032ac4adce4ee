/* SPDX-License-Identifier: MIT */
/*
 * rpal_epoll: ordinary fds and RPAL events in one wait. A pipe and a
 * connection in one set (each event with its own data, both reported by one
 * call when both are ready), timeouts, always-park mode (spin 0) woken by
 * the peer, EPOLLRPALREPLY for a call the server made to its client,
 * EPOLL_CTL_DEL/MOD and their errors, and EPOLLRPALHUP when the peer
 * releases the connection.
 */
#include <sched.h>

#include "test_util.h"

#define PIPE_DATA 100
#define CONN_DATA 200

static const char *s_name;
static struct test_pipe s_ctl;   /* parent -> child steps */
static struct test_pipe s_ack;   /* child -> parent */
static int s_data[2];            /* the pipe watched by the parent's set */

static void child_send_oneway(struct rpal_conn *c, uint64_t v)
{
    struct rpal_msg m = {.words = {v}};
    CHECK_OK(rpal_send(c, &m));
}

static int client(void *arg)
{
    CHECK(test_pipe_get(&s_ctl, 10000) == 'r');
    test_init();
    struct rpal_conn *c = test_connect(s_name, 5000);
    int ep = rpal_epoll_create(EPOLL_CLOEXEC);
    CHECK_OK(ep);
    struct epoll_event ev = {.events = EPOLLRPALIN, .data.u64 = 1};
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_conn_fd(c), &ev));
    for (;;) {
        int step = test_pipe_get(&s_ctl, 20000);
        CHECK(step > 0);
        switch (step) {
        case 'm': /* one message */
            child_send_oneway(c, 1);
            break;
        case 'b': /* message and pipe byte, then ack */
            child_send_oneway(c, 2);
            CHECK(write(s_data[1], "x", 1) == 1);
            test_pipe_put(&s_ack, 'b');
            break;
        case 'p': { /* always park: a call whose reply wakes us */
            CHECK_OK(rpal_set_spin_ns(0));
            struct rpal_msg req = {.words = {3}}, rep;
            CHECK_OK(rpal_call(c, &req, &rep, 5000));
            CHECK(rep.words[0] == 4);
            struct rpal_conn_stats st;
            CHECK_OK(rpal_conn_stats(c, &st));
            CHECK(st.parks > 0);
            test_pipe_put(&s_ack, 'p');
            break;
        }
        case 's': { /* serve one call from the server */
            CHECK(test_wait_conn(ep, EPOLLRPALIN, 5000) & EPOLLRPALIN);
            struct rpal_msg m;
            CHECK_OK(rpal_recv(c, &m));
            CHECK(m.id != 0 && m.words[0] == 5);
            struct rpal_msg r = {.words = {6}};
            CHECK_OK(rpal_reply(c, m.id, &r));
            break;
        }
        case 'q': /* release: the server must see EPOLLRPALHUP */
            CHECK_OK(rpal_epoll_close(ep));
            CHECK_OK(rpal_release_service(c));
            test_pipe_put(&s_ack, 'q');
            CHECK(test_pipe_get(&s_ctl, 10000) == 'x');
            CHECK_OK(rpal_exit());
            return 0;
        default:
            return 1;
        }
    }
}

/* Waits until process pid (one thread) is asleep in the kernel. */
static bool wait_sleeping(pid_t pid, int timeout_ms)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int64_t deadline = test_now_ns() + (int64_t)timeout_ms * 1000000;
    while (test_now_ns() < deadline) {
        FILE *f = fopen(path, "r");
        CHECK(f);
        char buf[512];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        const char *p = strrchr(buf, ')');
        if (p && p[1] == ' ' && p[2] == 'S')
            return true;
        sched_yield();
    }
    return false;
}

/* One rpal_epoll_wait; returns the events found for data d (0 if none). */
static uint32_t events_for(struct epoll_event *ev, int n, uint64_t d)
{
    uint32_t e = 0;
    for (int i = 0; i < n; i++)
        if (ev[i].data.u64 == d)
            e |= ev[i].events;
    return e;
}

int main(void)
{
    s_name = test_service_name("epoll");
    test_pipe_open(&s_ctl);
    test_pipe_open(&s_ack);
    CHECK(pipe2(s_data, O_CLOEXEC | O_NONBLOCK) == 0);
    pid_t pid = test_fork(client, NULL);
    test_init();
    int ep;
    struct rpal_service *svc = test_serve(s_name, &ep);
    test_pipe_put(&s_ctl, 'r');
    struct rpal_conn *c = test_accept(svc, ep, 10000);
    struct epoll_event ev = {.events = EPOLLRPALIN | EPOLLRPALREPLY | EPOLLRPALHUP,
                             .data.u64 = CONN_DATA};
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_MOD, rpal_conn_fd(c), &ev));
    struct epoll_event pev = {.events = EPOLLIN, .data.u64 = PIPE_DATA};
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, s_data[0], &pev));
    struct epoll_event out[8];
    char byte;

    /* errors */
    CHECK_RC(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_conn_fd(c), &ev), -EEXIST);
    int ep2 = rpal_epoll_create(0);
    CHECK_OK(ep2);
    CHECK_RC(rpal_epoll_ctl(ep2, EPOLL_CTL_ADD, rpal_conn_fd(c), &ev), -EBUSY);
    CHECK_RC(rpal_epoll_ctl(ep2, EPOLL_CTL_DEL, rpal_conn_fd(c), NULL), -ENOENT);
    struct epoll_event et = {.events = EPOLLRPALIN | EPOLLET};
    CHECK_RC(rpal_epoll_ctl(ep, EPOLL_CTL_MOD, rpal_conn_fd(c), &et), -EINVAL);
    CHECK_OK(rpal_epoll_close(ep2));
    CHECK_RC(rpal_epoll_close(ep2), -EBADF);

    /* nothing ready: the timeout holds */
    int64_t t0 = test_now_ns();
    CHECK_RC(rpal_epoll_wait(ep, out, 8, 50), 0);
    int64_t waited = (test_now_ns() - t0) / 1000000;
    CHECK(waited >= 49 && waited < 2000);

    /* an ordinary fd alone */
    CHECK(write(s_data[1], "x", 1) == 1);
    int n = rpal_epoll_wait(ep, out, 8, 5000);
    CHECK(n == 1 && events_for(out, n, PIPE_DATA) == EPOLLIN);
    CHECK(read(s_data[0], &byte, 1) == 1);

    /* an RPAL message alone */
    test_pipe_put(&s_ctl, 'm');
    CHECK(test_wait_conn(ep, EPOLLRPALIN, 5000) & EPOLLRPALIN);
    struct rpal_msg m;
    CHECK_OK(rpal_recv(c, &m));
    CHECK(m.id == 0 && m.words[0] == 1);
    CHECK_RC(rpal_recv(c, &m), -EAGAIN);

    /* both ready: one call reports both, each with its own data. Ordinary fds are
     * polled at most every 20 us, so a call that soon after the last poll may
     * report the message alone: ask again until one reports both. */
    test_pipe_put(&s_ctl, 'b');
    CHECK(test_pipe_get(&s_ack, 5000) == 'b');
    int64_t until = test_now_ns() + 1000000000;
    do
        n = rpal_epoll_wait(ep, out, 8, 0);
    while (n == 1 && test_now_ns() < until);
    CHECK(n == 2);
    CHECK(events_for(out, n, PIPE_DATA) == EPOLLIN);
    CHECK(events_for(out, n, CONN_DATA) == EPOLLRPALIN);
    CHECK(read(s_data[0], &byte, 1) == 1);
    CHECK_OK(rpal_recv(c, &m));
    CHECK(m.words[0] == 2);

    /* level-triggered: an unread message keeps being reported; DEL stops it */
    test_pipe_put(&s_ctl, 'm');
    CHECK(test_wait_conn(ep, EPOLLRPALIN, 5000) & EPOLLRPALIN);
    CHECK(test_wait_conn(ep, EPOLLRPALIN, 0) & EPOLLRPALIN);
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_DEL, rpal_conn_fd(c), NULL));
    CHECK_RC(rpal_epoll_wait(ep, out, 8, 20), 0);
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_conn_fd(c), &ev));
    CHECK(test_wait_conn(ep, EPOLLRPALIN, 0) & EPOLLRPALIN);
    CHECK_OK(rpal_recv(c, &m));

    /* always park, both sides: the receiver parks and the sender wakes it */
    CHECK_OK(rpal_set_spin_ns(0));
    test_pipe_put(&s_ctl, 'p');
    CHECK(test_wait_conn(ep, EPOLLRPALIN, 5000) & EPOLLRPALIN);
    CHECK_OK(rpal_recv(c, &m));
    CHECK(m.id != 0 && m.words[0] == 3);
    /* answer only once the caller sleeps in the kernel */
    CHECK(wait_sleeping(pid, 5000));
    struct rpal_msg r = {.words = {4}};
    CHECK_OK(rpal_reply(c, m.id, &r));
    CHECK(test_pipe_get(&s_ack, 5000) == 'p');
    struct rpal_conn_stats st;
    CHECK_OK(rpal_conn_stats(c, &st));
    CHECK(st.parks > 0 && st.wakeups > 0);
    CHECK_OK(rpal_set_spin_ns(20000));

    /* the server calls its client: EPOLLRPALREPLY */
    struct rpal_msg req = {.words = {5}};
    uint64_t id = 0;
    CHECK_OK(rpal_call_submit(c, &req, 77, &id));
    CHECK(id != 0);
    test_pipe_put(&s_ctl, 's');
    CHECK(test_wait_conn(ep, EPOLLRPALREPLY, 5000) & EPOLLRPALREPLY);
    struct rpal_completion comp;
    CHECK_OK(rpal_call_complete(c, &comp));
    CHECK(comp.res == 0 && comp.user_data == 77 && comp.reply.words[0] == 6);

    /* the client releases the connection (and stays alive) */
    test_pipe_put(&s_ctl, 'q');
    CHECK(test_pipe_get(&s_ack, 5000) == 'q');
    CHECK(test_wait_conn(ep, EPOLLRPALHUP, 2000) & EPOLLRPALHUP);
    CHECK_RC(rpal_recv(c, &m), -ECONNRESET);
    test_pipe_put(&s_ctl, 'x');
    CHECK_CHILD(pid, 10000);

    CHECK_OK(rpal_release_service(c));
    CHECK_OK(rpal_unregister_service(svc));
    CHECK_OK(rpal_epoll_close(ep));
    CHECK_OK(rpal_exit());
    return 0;
}
