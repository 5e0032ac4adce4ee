/* SPDX-License-Identifier: MIT */
/*
 * Ring occupancy in rpal_conn_stats, seen from both ends of one connection
 * across two processes: a request ring filled to the brim, taken in part,
 * calls queued behind it, replies queued on the way back and, past the
 * control ring's size, held in the backlog until it has room; nothing
 * queued once the peer is gone. The two processes move in lock step
 * (pipes), so every figure is exact.
 */
#include "test_util.h"

static const char *s_name;
static struct test_pipe s_to_server, s_to_client;

static struct rpal_conn_stats stats(const struct rpal_conn *c)
{
    struct rpal_conn_stats st;
    CHECK_OK(rpal_conn_stats(c, &st));
    return st;
}

static void step(struct test_pipe *wait_on, char want)
{
    CHECK(test_pipe_get(wait_on, 10000) == want);
}

static int client(void *arg)
{
    (void)arg;
    step(&s_to_client, 'r');
    test_init();
    struct rpal_conn *c = test_connect(s_name, 5000);
    struct rpal_conn_stats st = stats(c);
    CHECK(st.ring_entries >= 8 && (st.ring_entries & (st.ring_entries - 1)) == 0);
    CHECK(st.req_out_queued == 0 && st.ctl_out_queued == 0 && st.ctl_out_backlog == 0);
    CHECK(st.req_in_queued == 0 && st.ctl_in_queued == 0);
    uint32_t entries = st.ring_entries;

    /* fill the request ring: every message stays queued until the server takes it */
    for (uint32_t i = 0; i < entries; i++) {
        int64_t w[1] = {i};
        CHECK_OK(rpal_write_ptrs(c, w, 1));
        CHECK(stats(c).req_out_queued == i + 1);
    }
    test_pipe_put(&s_to_server, 'a');

    /* the server took all but 3 */
    step(&s_to_client, 'b');
    CHECK(stats(c).req_out_queued == 3);
    for (uint64_t i = 0; i < 2; i++)
        CHECK_OK(rpal_call_submit(c, &(struct rpal_msg){.words = {100 + i}}, i, NULL));
    CHECK(stats(c).req_out_queued == 5);
    test_pipe_put(&s_to_server, 'c');

    /* the server took everything and answered both calls: the replies wait here */
    step(&s_to_client, 'd');
    st = stats(c);
    CHECK(st.req_out_queued == 0 && st.ctl_in_queued == 2);
    struct rpal_completion done;
    for (int got = 0; got < 2;) {
        int rc = rpal_call_complete(c, &done);
        CHECK(rc == 0 || rc == -EAGAIN);
        got += rc == 0;
    }
    st = stats(c);
    CHECK(st.ctl_in_queued == 0 && st.req_in_queued == 0);
    test_pipe_put(&s_to_server, 'e');
    step(&s_to_client, 'f');

    /* one call more than the server's control ring holds: its reply waits in the backlog */
    for (uint64_t i = 0; i < entries; i++)
        CHECK_OK(rpal_call_submit(c, &(struct rpal_msg){.words = {i}}, i, NULL));
    test_pipe_put(&s_to_server, 'h');
    step(&s_to_client, 'i');
    CHECK_OK(rpal_call_submit(c, &(struct rpal_msg){.words = {entries}}, entries, NULL));
    test_pipe_put(&s_to_server, 'j');
    step(&s_to_client, 'k');
    CHECK(stats(c).ctl_in_queued == entries);
    /* taking the replies makes room; the server, woken, flushes the last one */
    int64_t deadline = test_now_ns() + 10000000000;
    for (uint32_t got = 0; got < entries + 1;) {
        int rc = rpal_call_complete(c, &done);
        CHECK(rc == 0 || rc == -EAGAIN);
        got += rc == 0;
        CHECK(test_now_ns() < deadline);
    }
    CHECK(stats(c).ctl_in_queued == 0);
    test_pipe_put(&s_to_server, 'l');

    /* leave 4 messages behind: the server must not count them once we are gone */
    step(&s_to_client, 'm');
    for (int64_t i = 0; i < 4; i++)
        CHECK_OK(rpal_write_ptrs(c, &i, 1));
    CHECK(stats(c).req_out_queued == 4);
    test_pipe_put(&s_to_server, 'n');
    CHECK_OK(rpal_release_service(c));
    CHECK_OK(rpal_exit());
    return 0;
}

int main(void)
{
    s_name = test_service_name("ringdepth");
    test_pipe_open(&s_to_server);
    test_pipe_open(&s_to_client);
    pid_t pid = test_fork(client, NULL);
    test_init();
    int ep;
    struct rpal_service *svc = test_serve(s_name, &ep);
    test_pipe_put(&s_to_client, 'r');
    struct rpal_conn *c = test_accept(svc, ep, 10000);

    step(&s_to_server, 'a');
    struct rpal_conn_stats st = stats(c);
    uint32_t entries = st.ring_entries; /* ours; the client's is the same default */
    CHECK(st.req_in_queued == entries && st.req_out_queued == 0 && st.ctl_out_queued == 0);
    struct rpal_msg m;
    for (uint32_t i = 0; i < entries - 3; i++) {
        CHECK_OK(rpal_recv(c, &m));
        CHECK(m.id == 0 && m.words[0] == i);
        CHECK(stats(c).req_in_queued == entries - i - 1);
    }
    test_pipe_put(&s_to_client, 'b');

    step(&s_to_server, 'c');
    CHECK(stats(c).req_in_queued == 5);
    uint64_t ids[2];
    int calls = 0;
    while (rpal_recv(c, &m) == 0)
        if (m.id != 0)
            ids[calls++] = m.id;
    CHECK(calls == 2);
    CHECK(stats(c).req_in_queued == 0);
    for (int i = 0; i < 2; i++) {
        CHECK_OK(rpal_reply(c, ids[i], &(struct rpal_msg){.words = {1}}));
        CHECK(stats(c).ctl_out_queued == (uint32_t)i + 1);
    }
    test_pipe_put(&s_to_client, 'd');

    step(&s_to_server, 'e');
    st = stats(c);
    CHECK(st.ctl_out_queued == 0 && st.ctl_out_backlog == 0 && st.req_in_queued == 0);
    test_pipe_put(&s_to_client, 'f');

    step(&s_to_server, 'h');
    for (uint32_t i = 0; i < entries; i++) {
        CHECK_OK(rpal_recv(c, &m));
        CHECK_OK(rpal_reply(c, m.id, &(struct rpal_msg){.words = {i}}));
    }
    st = stats(c);
    CHECK(st.ctl_out_queued == entries && st.ctl_out_backlog == 0);
    test_pipe_put(&s_to_client, 'i');
    step(&s_to_server, 'j');
    CHECK_OK(rpal_recv(c, &m));
    CHECK_OK(rpal_reply(c, m.id, &(struct rpal_msg){.words = {entries}}));
    st = stats(c);
    CHECK(st.ctl_out_queued == entries && st.ctl_out_backlog == 1);
    test_pipe_put(&s_to_client, 'k');
    /* the client's wake-up makes our epoll wait flush the backlog */
    int64_t deadline = test_now_ns() + 10000000000;
    while (stats(c).ctl_out_backlog != 0) {
        struct epoll_event ev[4];
        CHECK(rpal_epoll_wait(ep, ev, 4, 100) >= 0);
        CHECK(test_now_ns() < deadline);
    }
    step(&s_to_server, 'l');
    st = stats(c);
    CHECK(st.ctl_out_queued == 0 && st.ctl_out_backlog == 0);
    test_pipe_put(&s_to_client, 'm');

    step(&s_to_server, 'n');
    CHECK(stats(c).req_in_queued == 4);
    CHECK(test_wait_conn(ep, EPOLLRPALHUP, 10000) & EPOLLRPALHUP);
    st = stats(c);
    CHECK(st.req_in_queued == 0 && st.ctl_in_queued == 0 && st.req_out_queued == 0 &&
          st.ctl_out_queued == 0 && st.ring_entries == entries);
    CHECK_CHILD(pid, 10000);
    CHECK_OK(rpal_release_service(c));
    CHECK_OK(rpal_unregister_service(svc));
    CHECK_OK(rpal_epoll_close(ep));
    CHECK_OK(rpal_exit());
    printf("ring depth: %u entries, occupancy exact on both ends\n", entries);
    return 0;
}
