/* SPDX-License-Identifier: MIT */
/*
 * Many threads calling on one connection: every reply reaches its own call.
 * The server answers with the request's words transformed, so a reply routed
 * to the wrong caller is caught. Two server threads share the connection's
 * receive side (rpal_recv is safe from several threads).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "test_util.h"

#define THREADS 8
#define CALLS_PER_THREAD 20000
#define SERVER_THREADS 2

static const char *s_name;
static struct test_pipe s_ready;
static struct rpal_conn *s_conn;
static _Atomic int s_done;
static _Atomic uint64_t s_served;

static void *caller(void *arg)
{
    uint64_t t = (uint64_t)(uintptr_t)arg;
    for (uint64_t i = 0; i < CALLS_PER_THREAD; i++) {
        struct rpal_msg req = {.words = {t, i, t * 1000003 + i}}, rep;
        CHECK_OK(rpal_call(s_conn, &req, &rep, 20000));
        CHECK(rep.words[0] == t && rep.words[1] == i && rep.words[2] == ~(t * 1000003 + i));
        /* every 1000th, a second call with a different transform check */
        if (i % 1000 == 0) {
            req.words[2] = 0;
            CHECK_OK(rpal_call(s_conn, &req, &rep, 20000));
            CHECK(rep.words[2] == ~0ull);
        }
    }
    return NULL;
}

static int client(void *arg)
{
    CHECK(test_pipe_get(&s_ready, 10000) == 'r');
    test_init();
    s_conn = test_connect(s_name, 5000);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&th[i], NULL, caller, (void *)(uintptr_t)i) == 0);
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
    struct rpal_conn_stats st;
    CHECK_OK(rpal_conn_stats(s_conn, &st));
    CHECK(st.rejected == 0);
    CHECK_OK(rpal_release_service(s_conn));
    CHECK_OK(rpal_exit());
    return 0;
}

static void *server_loop(void *arg)
{
    int ep = (int)(intptr_t)arg;
    while (!atomic_load(&s_done)) {
        struct epoll_event ev[2];
        int n = rpal_epoll_wait(ep, ev, 2, 100);
        CHECK(n >= 0);
        for (int i = 0; i < n; i++) {
            if (ev[i].events & EPOLLRPALHUP)
                atomic_store(&s_done, 1);
            struct rpal_msg m;
            while (rpal_recv(s_conn, &m) == 0) {
                CHECK(m.id != 0);
                struct rpal_msg r = {.words = {m.words[0], m.words[1], ~m.words[2]}};
                CHECK_OK(rpal_reply(s_conn, m.id, &r));
                atomic_fetch_add(&s_served, 1);
            }
        }
    }
    return NULL;
}

int main(void)
{
    s_name = test_service_name("threads");
    test_pipe_open(&s_ready);
    pid_t pid = test_fork(client, NULL);
    test_init();
    int ep;
    struct rpal_service *svc = test_serve(s_name, &ep);
    test_pipe_put(&s_ready, 'r');
    s_conn = test_accept(svc, ep, 10000);

    /* both server threads wait on the same set and share the connection */
    pthread_t th[SERVER_THREADS];
    for (int i = 0; i < SERVER_THREADS; i++)
        CHECK(pthread_create(&th[i], NULL, server_loop, (void *)(intptr_t)ep) == 0);
    for (int i = 0; i < SERVER_THREADS; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
    uint64_t want = (uint64_t)THREADS * (CALLS_PER_THREAD + CALLS_PER_THREAD / 1000);
    CHECK((uint64_t)atomic_load(&s_served) == want);
    CHECK_CHILD(pid, 60000);
    CHECK_OK(rpal_release_service(s_conn));
    CHECK_OK(rpal_unregister_service(svc));
    CHECK_OK(rpal_epoll_close(ep));
    CHECK_OK(rpal_exit());
    printf("threads: %llu calls from %d threads\n", (unsigned long long)want, THREADS);
    return 0;
}
