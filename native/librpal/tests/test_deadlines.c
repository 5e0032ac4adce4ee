/* SPDX-License-Identifier: MIT */
/*
 * Every wait a peer can prolong ends at the caller's deadline, and a caller
 * that does not want to wait is told when to try again. Two processes; the
 * server is driven by commands on a pipe: hold (take nothing), absorb (take
 * every request and answer none), reply-one (answer the oldest held call),
 * echo (answer everything). The client has a 16-entry request ring and 32
 * call slots, so both fill quickly:
 *  - a blocking call times out on time when the ring is full (the server takes
 *    nothing) and when every call slot is held by an abandoned call (the
 *    server takes requests and never answers); rpal_call_submit_wait too;
 *  - RPAL_MSG_DONTWAIT sends and submits fail with -EAGAIN, leave the payload
 *    with the caller, and EPOLLRPALOUT comes once (and only once) the server
 *    made room (took from the ring, or answered an abandoned call);
 *  - rpal_call_submit_wait: an answer within the timeout completes there; one
 *    after it arrives as a completion, with the caller's user_data;
 *  - unknown flags are refused.
 */
#include "test_util.h"

enum { RING = 16, CALLS = 32 };

static const char *s_name;
static struct test_pipe s_ready, s_cmd, s_ack;

static void client_init(void)
{
    struct rpal_options o;
    CHECK_OK(rpal_options_init(&o));
    o.arena_size = 16u << 20;
    o.spin_ns = 20000;
    o.ring_entries = RING;
    o.max_calls = CALLS;
    CHECK_OK(rpal_init(&o));
}

static int server(void *arg)
{
    (void)arg;
    test_init();
    int ep;
    struct rpal_service *svc = test_serve(s_name, &ep);
    test_pipe_put(&s_ready, 'r');
    struct rpal_conn *c = test_accept(svc, ep, 10000);
    uint64_t held[4 * CALLS];
    int nheld = 0;
    char mode = 'h';
    for (;;) {
        int cmd = test_pipe_get(&s_cmd, mode == 'h' ? 1000 : 1);
        if (cmd == 'q')
            break;
        if (cmd == 'R') {
            CHECK(nheld > 0);
            CHECK_OK(rpal_reply(c, held[0], &(struct rpal_msg){.words = {7}}));
            memmove(held, held + 1, (size_t)--nheld * sizeof *held);
        } else if (cmd > 0) {
            mode = (char)cmd;
        }
        if (mode != 'h') {
            struct rpal_msg m;
            int rc;
            while ((rc = rpal_recv(c, &m)) == 0) {
                if (m.id == 0)
                    CHECK_OK(rpal_release(c, &m));
                else if (mode == 'e')
                    CHECK_OK(rpal_reply(c, m.id, &(struct rpal_msg){.words = {m.words[0] + 1}}));
                else {
                    CHECK(nheld < 4 * CALLS);
                    held[nheld++] = m.id;
                }
            }
            CHECK_RC(rc, -EAGAIN);
            if (mode == 'e') {
                for (int i = 0; i < nheld; i++)
                    CHECK_OK(rpal_reply(c, held[i], &(struct rpal_msg){.words = {7}}));
                nheld = 0;
            }
        }
        if (cmd > 0)
            test_pipe_put(&s_ack, 'k');
    }
    CHECK_OK(rpal_release_service(c));
    return 0;
}

static void command(char c)
{
    test_pipe_put(&s_cmd, c);
    CHECK(test_pipe_get(&s_ack, 10000) == 'k');
}

/* A blocking call of timeout_ms that must time out on time. */
static void call_times_out(struct rpal_conn *conn, int timeout_ms, const char *what)
{
    struct rpal_msg req = {.words = {1}}, reply;
    int64_t t0 = test_now_ns();
    CHECK_RC(rpal_call(conn, &req, &reply, timeout_ms), -ETIMEDOUT);
    int64_t ms = (test_now_ns() - t0) / 1000000;
    struct rpal_completion done;
    t0 = test_now_ns();
    CHECK_RC(rpal_call_submit_wait(conn, &req, 1, timeout_ms, NULL, &done), -ETIMEDOUT);
    int64_t ms2 = (test_now_ns() - t0) / 1000000;
    printf("%s: rpal_call ended after %lld ms, rpal_call_submit_wait after %lld ms (timeout %d ms)\n",
           what, (long long)ms, (long long)ms2, timeout_ms);
    CHECK(ms >= timeout_ms - 1 && ms < timeout_ms + 1500);
    CHECK(ms2 >= timeout_ms - 1 && ms2 < timeout_ms + 1500);
}

/* A payload of 64 bytes, filled with v. */
static void *payload(int v)
{
    void *p;
    CHECK_OK(rpal_alloc(64, &p));
    memset(p, v, 64);
    return p;
}

int main(void)
{
    s_name = test_service_name("deadlines");
    test_pipe_open(&s_ready);
    test_pipe_open(&s_cmd);
    test_pipe_open(&s_ack);
    pid_t pid = test_fork(server, NULL);
    CHECK(test_pipe_get(&s_ready, 10000) == 'r');
    client_init();
    struct rpal_conn *conn = test_connect(s_name, 5000);
    int ep = rpal_epoll_create(EPOLL_CLOEXEC);
    CHECK_OK(ep);
    struct epoll_event ev = {.events = EPOLLRPALOUT | EPOLLRPALREPLY | EPOLLRPALHUP};
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_conn_fd(conn), &ev));

    struct rpal_msg req = {.words = {1}, .flags = 2}, reply;
    struct rpal_completion done;
    CHECK_RC(rpal_send(conn, &req), -EINVAL);
    CHECK_RC(rpal_call(conn, &req, &reply, 10), -EINVAL);
    CHECK_RC(rpal_call_submit(conn, &req, 0, NULL), -EINVAL);
    CHECK_RC(rpal_call_submit_spin(conn, &req, 0, 0, NULL, &done), -EINVAL);
    req.flags = RPAL_MSG_DONTWAIT;
    CHECK_RC(rpal_call(conn, &req, &reply, 10), -EINVAL);
    CHECK_RC(rpal_call_submit_wait(conn, &req, 0, 10, NULL, &done), -EINVAL);
    req.flags = 0;

    /* 1. The server takes nothing: RING calls fill the request ring, then wait for room only
     * until their deadline. */
    for (int i = 0; i < RING; i++)
        CHECK_RC(rpal_call(conn, &req, &reply, 1), -ETIMEDOUT);
    struct rpal_conn_stats st;
    CHECK_OK(rpal_conn_stats(conn, &st));
    CHECK(st.req_out_queued == RING);
    call_times_out(conn, 100, "request ring full");

    /* 2. Not waiting: -EAGAIN, the payload still ours, no room event until the server takes. */
    void *p = payload(0x5a);
    struct rpal_msg one = {.data = p, .len = 64, .flags = RPAL_MSG_DONTWAIT};
    CHECK_RC(rpal_send(conn, &one), -EAGAIN);
    CHECK(rpal_alloc_size(p) >= 64);
    CHECK_RC(rpal_call_submit(conn, &one, 3, NULL), -EAGAIN);
    CHECK_RC(rpal_call_submit_spin(conn, &one, 3, 1000, NULL, &done), -EAGAIN);
    CHECK(rpal_alloc_size(p) >= 64 && ((unsigned char *)p)[63] == 0x5a);
    CHECK(test_wait_conn(ep, EPOLLRPALOUT, 50) == 0);
    command('a'); /* the server takes the ring's RING calls and holds them */
    CHECK(test_wait_conn(ep, EPOLLRPALOUT, 5000) & EPOLLRPALOUT);
    CHECK(test_wait_conn(ep, EPOLLRPALOUT, 20) == 0); /* reported once */
    CHECK_OK(rpal_send(conn, &one));
    CHECK(rpal_alloc_size(p) == -EINVAL); /* lent now */

    /* 3. The server takes every request and answers none: the abandoned calls keep their slots
     * until answered, and the next calls wait for a slot only until their deadline. */
    for (int i = RING; i < CALLS; i++)
        CHECK_RC(rpal_call(conn, &req, &reply, 1), -ETIMEDOUT);
    call_times_out(conn, 100, "call slots all held");
    p = payload(0x33);
    one = (struct rpal_msg){.words = {1}, .data = p, .len = 64, .flags = RPAL_MSG_DONTWAIT};
    CHECK_RC(rpal_call_submit(conn, &one, 4, NULL), -EAGAIN);
    CHECK(rpal_alloc_size(p) >= 64);
    CHECK(test_wait_conn(ep, EPOLLRPALOUT, 50) == 0);
    command('R'); /* one late answer: its abandoned call's slot is free again */
    CHECK(test_wait_conn(ep, EPOLLRPALOUT, 5000) & EPOLLRPALOUT);
    CHECK_OK(rpal_call_submit(conn, &one, 4, NULL));

    /* 4. rpal_call_submit_wait: the slots are full again (the submitted call holds the last);
     * echo answers everything held, then a call answered in time completes here. */
    command('e');
    int completions = 0;
    int64_t deadline = test_now_ns() + 10000000000;
    while (completions < 1) { /* the submitted call (user_data 4) */
        CHECK(test_now_ns() < deadline);
        test_wait_conn(ep, EPOLLRPALREPLY, 100);
        while (rpal_call_complete(conn, &done) == 0) {
            /* answered held (7) or taken straight by the echo (2) */
            CHECK(done.user_data == 4 && done.res == 0 &&
                  (done.reply.words[0] == 7 || done.reply.words[0] == 2));
            completions++;
        }
    }
    uint64_t id = 0;
    req.words[0] = 41;
    CHECK_RC(rpal_call_submit_wait(conn, &req, 5, 5000, &id, &done), 1);
    CHECK(id != 0 && done.user_data == 5 && done.res == 0 && done.reply.words[0] == 42);

    /* ... and one answered late becomes a submitted call whose completion follows. */
    command('a');
    int64_t t0 = test_now_ns();
    CHECK_RC(rpal_call_submit_wait(conn, &req, 6, 50, &id, &done), 0);
    int64_t waited_ms = (test_now_ns() - t0) / 1000000;
    CHECK(waited_ms >= 49);
    CHECK_RC(rpal_call_complete(conn, &done), -EAGAIN);
    command('e');
    CHECK(test_wait_conn(ep, EPOLLRPALREPLY, 5000) & EPOLLRPALREPLY);
    CHECK_OK(rpal_call_complete(conn, &done));
    CHECK(done.user_data == 6 && done.res == 0 && done.reply.words[0] == 7);

    test_pipe_put(&s_cmd, 'q');
    CHECK_CHILD(pid, 10000);
    CHECK_OK(rpal_epoll_close(ep));
    CHECK_OK(rpal_release_service(conn));
    CHECK_OK(rpal_exit());
    printf("deadlines: ring and call slots full -> calls end at their deadline; DONTWAIT -> "
           "-EAGAIN and EPOLLRPALOUT; submit_wait in time and late (waited %lld ms)\n",
           (long long)waited_ms);
    return 0;
}
