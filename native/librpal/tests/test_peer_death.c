/* SPDX-License-Identifier: MIT */
/*
 * A peer killed during calls.
 *  A: the server dies (SIGKILL) with 1,000 calls in flight (4 blocking, 996
 *     submitted): every call fails with -ECONNRESET within 100 ms, the dead
 *     server's arena is unmapped, and a restarted server takes the same slot
 *     and answers.
 *  B: a client dies holding a reply buffer the server lent it and a call the
 *     server has not answered yet: the server sees EPOLLRPALHUP, gets its
 *     buffer back (lent_bytes 0), and answering the orphan call fails with
 *     -ECONNRESET.
 * Children are this program exec'ed again (a process must not keep using
 * RPAL across fork).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "test_util.h"

#define SYNC_CALLS 4
#define ASYNC_CALLS 996

static struct rpal_conn *s_conn;
static int64_t s_fail_ns[SYNC_CALLS];

static pid_t spawn(const char *mode, const char *name, int fd)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char fdbuf[16];
        snprintf(fdbuf, sizeof fdbuf, "%d", dup(fd)); /* without O_CLOEXEC */
        execl("/proc/self/exe", "test_peer_death", mode, name, fdbuf, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Counts memfd arenas mapped in this process. */
static int arenas_mapped(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f);
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "memfd:rpal-arena"))
            n++;
    fclose(f);
    return n;
}

/* Server mode: answers calls with words[0] == 0 at once, holds the others
 * and says 'h' on fd once `hold` of them arrived. */
static int server_main(const char *name, int fd, int hold)
{
    test_init();
    int ep;
    struct rpal_service *svc = test_serve(name, &ep);
    char r = 'r';
    CHECK(write(fd, &r, 1) == 1);
    struct rpal_conn *c = test_accept(svc, ep, 10000);
    int held = 0;
    for (;;) {
        struct epoll_event ev[2];
        int n = rpal_epoll_wait(ep, ev, 2, 30000);
        CHECK(n > 0);
        for (int i = 0; i < n; i++) {
            if (ev[i].events & EPOLLRPALHUP)
                return 0;
            struct rpal_msg m;
            while (rpal_recv(c, &m) == 0) {
                if (m.words[0] == 0) {
                    struct rpal_msg rep = {.words = {m.words[1] + 1}};
                    CHECK_OK(rpal_reply(c, m.id, &rep));
                } else if (++held == hold) {
                    char h = 'h';
                    CHECK(write(fd, &h, 1) == 1);
                }
            }
        }
    }
}

static void *sync_caller(void *arg)
{
    int i = (int)(intptr_t)arg;
    struct rpal_msg req = {.words = {1, (uint64_t)i}}, rep;
    CHECK_RC(rpal_call(s_conn, &req, &rep, 20000), -ECONNRESET);
    s_fail_ns[i] = test_now_ns();
    return NULL;
}

static void server_dies(const char *name)
{
    struct test_pipe p;
    test_pipe_open(&p);
    pid_t pid = spawn("server", name, p.wr);
    CHECK(test_pipe_get(&p, 10000) == 'r');
    s_conn = test_connect(name, 5000);
    struct rpal_peer_info info;
    CHECK_OK(rpal_conn_info(s_conn, &info));
    int dead_slot = info.slot;
    CHECK(arenas_mapped() == 2);

    int ep = rpal_epoll_create(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = 0, .data.u64 = 7};
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_conn_fd(s_conn), &ev));
    pthread_t th[SYNC_CALLS];
    for (int i = 0; i < SYNC_CALLS; i++)
        CHECK(pthread_create(&th[i], NULL, sync_caller, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < ASYNC_CALLS; i++) {
        struct rpal_msg req = {.words = {1, (uint64_t)i}};
        void *buf;
        CHECK_OK(rpal_alloc(100, &buf)); /* freed when the call fails */
        req.data = buf;
        req.len = 100;
        CHECK_OK(rpal_call_submit(s_conn, &req, (uint64_t)i, NULL));
    }
    CHECK(test_pipe_get(&p, 10000) == 'h'); /* all 1,000 are in the server */

    int64_t killed = test_now_ns();
    CHECK(kill(pid, SIGKILL) == 0);
    int failed = 0;
    bool hup = false;
    int64_t last = 0;
    while (failed < ASYNC_CALLS || !hup) {
        uint32_t e = test_wait_conn(ep, EPOLLRPALHUP | EPOLLRPALREPLY, 2000);
        CHECK(e != 0);
        hup |= (e & EPOLLRPALHUP) != 0;
        struct rpal_completion comp;
        while (rpal_call_complete(s_conn, &comp) == 0) {
            CHECK(comp.res == -ECONNRESET && comp.user_data < ASYNC_CALLS);
            failed++;
            last = test_now_ns();
        }
    }
    for (int i = 0; i < SYNC_CALLS; i++) {
        CHECK(pthread_join(th[i], NULL) == 0);
        if (s_fail_ns[i] > last)
            last = s_fail_ns[i];
    }
    int64_t ms = (last - killed) / 1000000;
    printf("server killed: %d calls failed with ECONNRESET within %lld ms\n",
           ASYNC_CALLS + SYNC_CALLS, (long long)ms);
    CHECK(ms < 100);
    CHECK(test_wait(pid, 5000) == 128 + SIGKILL);
    CHECK(arenas_mapped() == 1); /* the dead server's memory is gone */
    struct rpal_msg req = {0}, rep;
    CHECK_RC(rpal_call(s_conn, &req, &rep, 1000), -ECONNRESET);
    CHECK_RC(rpal_send(s_conn, &req), -ECONNRESET);
    CHECK_OK(rpal_release_service(s_conn));
    CHECK_OK(rpal_epoll_close(ep));

    /* a restarted server takes the freed slot and answers */
    pid = spawn("server", name, p.wr);
    CHECK(test_pipe_get(&p, 10000) == 'r');
    s_conn = test_connect(name, 5000);
    CHECK_OK(rpal_conn_info(s_conn, &info));
    CHECK(info.slot == dead_slot);
    req.words[1] = 41;
    CHECK_OK(rpal_call(s_conn, &req, &rep, 5000));
    CHECK(rep.words[0] == 42);
    CHECK_OK(rpal_release_service(s_conn));
    CHECK(test_wait(pid, 5000) == 0);
}

/* Client mode: calls, keeps the reply buffer, makes a call the server holds,
 * says 'c', then waits to be killed. */
static int client_main(const char *name, int fd)
{
    test_init();
    struct rpal_conn *c = test_connect(name, 5000);
    struct rpal_msg req = {.words = {0}}, rep;
    CHECK_OK(rpal_call(c, &req, &rep, 5000));
    CHECK(rep.len == 4096);
    req.words[0] = 1;
    CHECK_OK(rpal_call_submit(c, &req, 1, NULL));
    char ch = 'c';
    CHECK(write(fd, &ch, 1) == 1);
    for (;;)
        pause();
}

static void client_dies(const char *name)
{
    int ep;
    struct rpal_service *svc = test_serve(name, &ep);
    struct test_pipe p;
    test_pipe_open(&p);
    pid_t pid = spawn("client", name, p.wr);
    struct rpal_conn *c = test_accept(svc, ep, 10000);
    int before = arenas_mapped();
    uint64_t held = 0;
    while (!held) {
        CHECK(test_wait_conn(ep, EPOLLRPALIN, 5000) & EPOLLRPALIN);
        struct rpal_msg m;
        while (rpal_recv(c, &m) == 0) {
            if (m.words[0] == 1) {
                held = m.id;
                continue;
            }
            void *buf;
            CHECK_OK(rpal_alloc(4096, &buf));
            struct rpal_msg r = {.data = buf, .len = 4096};
            CHECK_OK(rpal_reply(c, m.id, &r));
        }
    }
    CHECK(test_pipe_get(&p, 5000) == 'c');
    struct rpal_conn_stats st;
    CHECK_OK(rpal_conn_stats(c, &st));
    CHECK(st.lent_bytes >= 4096);
    CHECK(kill(pid, SIGKILL) == 0);
    CHECK(test_wait_conn(ep, EPOLLRPALHUP, 2000) & EPOLLRPALHUP);
    CHECK_OK(rpal_conn_stats(c, &st));
    CHECK(st.lent_bytes == 0);
    struct rpal_msg r = {0};
    CHECK_RC(rpal_reply(c, held, &r), -ECONNRESET);
    CHECK(arenas_mapped() == before - 1);
    CHECK(test_wait(pid, 5000) == 128 + SIGKILL);
    CHECK_OK(rpal_release_service(c));
    CHECK_OK(rpal_unregister_service(svc));
    CHECK_OK(rpal_epoll_close(ep));
    printf("client killed: server got its buffer back\n");
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "server") == 0)
        return server_main(argv[2], atoi(argv[3]), SYNC_CALLS + ASYNC_CALLS);
    if (argc == 4 && strcmp(argv[1], "client") == 0)
        return client_main(argv[2], atoi(argv[3]));
    test_init();
    char name[RPAL_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s", test_service_name("death"));
    server_dies(name);
    snprintf(name, sizeof name, "%s", test_service_name("death2"));
    client_dies(name);
    CHECK_OK(rpal_exit());
    return 0;
}
