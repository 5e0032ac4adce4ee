/* SPDX-License-Identifier: MIT */
/*
 * Rings across two processes: millions of one-way messages through rings
 * that wrap many times (none lost, order kept), calls, 1 MiB payloads read
 * in place in both directions and freed when released, and submitted calls
 * completed through rpal_epoll_wait.
 */
#include "test_util.h"

#define ONEWAY 2000000
#define CALLS 200000
#define BIG_ROUNDS 24
#define BIG (1u << 20)
#define ASYNC 1000

static const char *s_name;
static struct test_pipe s_ready;

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 31 + seed);
}

static int check_fill(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 31 + seed))
            return 0;
    return 1;
}

static int client(void *arg)
{
    CHECK(test_pipe_get(&s_ready, 10000) == 'r');
    test_init();
    struct rpal_conn *c = test_connect(s_name, 5000);

    /* one-way, in order */
    for (int64_t i = 0; i < ONEWAY; i++) {
        int64_t w[2] = {i, ~i};
        CHECK_OK(rpal_write_ptrs(c, w, 2));
    }
    /* calls */
    for (uint64_t i = 0; i < CALLS; i++) {
        struct rpal_msg req = {.words = {i, 7}}, rep;
        CHECK_OK(rpal_call(c, &req, &rep, 10000));
        CHECK(rep.words[0] == i * 2 + 1 && rep.data == NULL);
    }
    /* big payloads both ways: without frees the 16 MiB arena runs out */
    for (unsigned r = 0; r < BIG_ROUNDS; r++) {
        void *buf;
        CHECK_OK(rpal_alloc(BIG + r, &buf));
        fill(buf, BIG + r, r);
        struct rpal_msg req = {.words = {1000000 + r}, .data = buf, .len = BIG + r}, rep;
        CHECK_OK(rpal_call(c, &req, &rep, 10000));
        CHECK(rep.len == BIG + 2 * r && rep.data != NULL);
        CHECK(check_fill(rep.data, rep.len, r + 1));
        struct rpal_peer_info info;
        CHECK_OK(rpal_conn_info(c, &info));
        CHECK((uint64_t)(uintptr_t)rep.data >= info.arena_base &&
              (uint64_t)(uintptr_t)rep.data + rep.len <= info.arena_base + info.arena_size);
        CHECK_OK(rpal_release(c, &rep));
    }
    /* submitted calls, completed through the epoll set */
    int ep = rpal_epoll_create(EPOLL_CLOEXEC);
    CHECK_OK(ep);
    struct epoll_event ev = {.events = EPOLLRPALREPLY, .data.u64 = 42};
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_conn_fd(c), &ev));
    for (uint64_t i = 0; i < ASYNC; i++) {
        struct rpal_msg req = {.words = {2000000 + i}};
        CHECK_OK(rpal_call_submit(c, &req, 5000 + i, NULL));
    }
    static unsigned char seen[ASYNC];
    int got = 0;
    while (got < ASYNC) {
        uint32_t e = test_wait_conn(ep, EPOLLRPALREPLY, 10000);
        CHECK(e & EPOLLRPALREPLY);
        struct rpal_completion comp;
        while (rpal_call_complete(c, &comp) == 0) {
            CHECK(comp.res == 0);
            uint64_t i = comp.user_data - 5000;
            CHECK(i < ASYNC && !seen[i]);
            CHECK(comp.reply.words[0] == (2000000 + i) * 2 + 1);
            seen[i] = 1;
            got++;
        }
    }
    CHECK_RC(rpal_call_complete(c, &(struct rpal_completion){0}), -EAGAIN);
    struct rpal_conn_stats st;
    CHECK_OK(rpal_conn_stats(c, &st));
    CHECK(st.rejected == 0);
    CHECK_OK(rpal_epoll_close(ep));
    CHECK_OK(rpal_release_service(c));
    CHECK_OK(rpal_exit());
    return 0;
}

int main(void)
{
    s_name = test_service_name("rings");
    test_pipe_open(&s_ready);
    pid_t pid = test_fork(client, NULL);
    test_init();
    int ep;
    struct rpal_service *svc = test_serve(s_name, &ep);
    test_pipe_put(&s_ready, 'r');
    struct rpal_conn *c = test_accept(svc, ep, 10000);

    int64_t next_oneway = 0;
    uint64_t calls = 0, big = 0, async = 0;
    bool hup = false;
    while (!hup) {
        struct epoll_event ev[4];
        int n = rpal_epoll_wait(ep, ev, 4, 20000);
        CHECK(n > 0);
        for (int i = 0; i < n; i++) {
            if (ev[i].events & EPOLLRPALHUP)
                hup = true;
            if (!(ev[i].events & EPOLLRPALIN))
                continue;
            CHECK(ev[i].data.ptr == c);
            struct rpal_msg m;
            while (rpal_recv(c, &m) == 0) {
                if (m.id == 0) {
                    CHECK((int64_t)m.words[0] == next_oneway && m.words[1] == ~m.words[0]);
                    next_oneway++;
                    continue;
                }
                struct rpal_msg r = {.words = {m.words[0] * 2 + 1}};
                if (m.data) {
                    unsigned round = (unsigned)(m.words[0] - 1000000);
                    CHECK(m.len == BIG + round && check_fill(m.data, m.len, round));
                    void *buf;
                    CHECK_OK(rpal_alloc(BIG + 2 * round, &buf));
                    fill(buf, BIG + 2 * round, round + 1);
                    r.data = buf;
                    r.len = BIG + 2 * round;
                    big++;
                } else if (m.words[0] >= 2000000) {
                    async++;
                } else {
                    CHECK(m.words[1] == 7);
                    calls++;
                }
                CHECK_OK(rpal_reply(c, m.id, &r));
            }
        }
    }
    CHECK(next_oneway == ONEWAY);
    CHECK(calls == CALLS && big == BIG_ROUNDS && async == ASYNC);
    struct rpal_conn_stats st;
    CHECK_OK(rpal_conn_stats(c, &st));
    CHECK(st.rejected == 0);
    CHECK(st.lent_bytes == 0); /* every reply buffer came back */
    CHECK_CHILD(pid, 60000);
    CHECK_OK(rpal_release_service(c));
    CHECK_OK(rpal_unregister_service(svc));
    CHECK_OK(rpal_epoll_close(ep));
    CHECK_OK(rpal_exit());
    printf("rings: %d one-way, %llu calls, %llu big, %llu submitted\n", ONEWAY,
           (unsigned long long)calls, (unsigned long long)big, (unsigned long long)async);
    return 0;
}
