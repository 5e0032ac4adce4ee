/* SPDX-License-Identifier: MIT */
/*
 * The spin policy across two processes: a waiter spins only when the last
 * wait of its kind ended within the spin budget. Checked through the CPU
 * time of the waiting thread (CLOCK_THREAD_CPUTIME_ID), which a spin uses
 * and a park does not, with a budget long enough (5 ms) that one spin is
 * unmistakable:
 *  - calls to a server slower than the budget stop spinning after the first;
 *  - an idle epoll set parks at once after its first wait;
 *  - back-to-back calls to a fast server still spin (counted in the stats);
 *  - an explicit spin (rpal_call_submit_spin with spin_ns >= 0) is the
 *    caller's choice: it spins whatever the policy learnt.
 * Only upper bounds on CPU are asserted: a loaded machine can only make a
 * thread use less CPU than it asked for.
 */
#include <pthread.h>

#include "test_util.h"

enum { OP_ECHO = 1, OP_SLOW = 2 };

#define BUDGET_NS 5000000 /* 5 ms */
#define SLOW_NS 20000000  /* what OP_SLOW takes: 20 ms, beyond the budget */

static const char *s_name;
static struct test_pipe s_ready;

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int server(void *arg)
{
    (void)arg;
    test_init();
    CHECK_OK(rpal_set_spin_ns(BUDGET_NS));
    int ep;
    struct rpal_service *svc = test_serve(s_name, &ep);
    test_pipe_put(&s_ready, 'r');
    struct rpal_conn *c = test_accept(svc, ep, 10000);
    struct epoll_event ev = {.events = EPOLLRPALIN | EPOLLRPALHUP, .data.ptr = c};
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_MOD, rpal_conn_fd(c), &ev));
    for (;;) {
        uint32_t e = test_wait_conn(ep, EPOLLRPALIN | EPOLLRPALHUP, 60000);
        CHECK(e != 0);
        if (e & EPOLLRPALHUP)
            break;
        struct rpal_msg m;
        while (rpal_recv(c, &m) == 0) {
            if (m.words[0] == OP_SLOW) {
                struct timespec ts = {0, SLOW_NS};
                nanosleep(&ts, NULL); /* the handler's work, not a wait of the test */
            }
            CHECK_OK(rpal_reply(c, m.id, &(struct rpal_msg){.words = {m.words[1] + 1}}));
        }
    }
    return 0;
}

static void call(struct rpal_conn *c, uint64_t op, uint64_t v)
{
    struct rpal_msg reply;
    CHECK_OK(rpal_call(c, &(struct rpal_msg){.words = {op, v}}, &reply, 10000));
    CHECK(reply.words[0] == v + 1);
}

int main(void)
{
    s_name = test_service_name("spinpolicy");
    test_pipe_open(&s_ready);
    pid_t pid = test_fork(server, NULL);
    CHECK(test_pipe_get(&s_ready, 10000) == 'r');
    test_init();
    CHECK_OK(rpal_set_spin_ns(BUDGET_NS));
    struct rpal_conn *c = test_connect(s_name, 5000);

    /* A slow server: the first call spins its 5 ms and learns the reply takes longer; the
     * next ten park at once (ten spins would take 50 ms of CPU). */
    call(c, OP_SLOW, 1);
    int64_t cpu0 = thread_cpu_ns();
    for (uint64_t i = 0; i < 10; i++)
        call(c, OP_SLOW, i);
    int64_t slow_cpu = thread_cpu_ns() - cpu0;
    CHECK(slow_cpu < 2 * BUDGET_NS);

    /* A fast server again: back-to-back calls spin (a parked call counts as a park). */
    struct rpal_conn_stats before, after;
    for (int i = 0; i < 100; i++)
        call(c, OP_ECHO, (uint64_t)i); /* relearn; the server may have parked meanwhile */
    CHECK_OK(rpal_conn_stats(c, &before));
    for (int i = 0; i < 1000; i++)
        call(c, OP_ECHO, (uint64_t)i);
    CHECK_OK(rpal_conn_stats(c, &after));
    uint64_t spun = after.spins - before.spins;
    CHECK(spun > 0);

    /* An explicit spin is the caller's: a slow call with a 5 ms spin spins its 5 ms even
     * though the policy learnt that slow calls do not answer within it. */
    call(c, OP_SLOW, 1);
    struct rpal_completion done;
    uint64_t id;
    cpu0 = thread_cpu_ns();
    int64_t t0 = test_now_ns();
    int explicit_rc = rpal_call_submit_spin(c, &(struct rpal_msg){.words = {OP_SLOW, 3}}, 77,
                                            BUDGET_NS, &id, &done);
    int64_t explicit_wall = test_now_ns() - t0, explicit_cpu = thread_cpu_ns() - cpu0;
    CHECK(explicit_wall >= BUDGET_NS);
    /* 1 (completed within the spin) only where the spin outlasted the slow server: a spinner
     * that lost its CPU for that long, on a loaded machine (an explicit spin is not cut short) */
    CHECK(explicit_rc == 0 || (explicit_rc == 1 && explicit_wall >= SLOW_NS && done.res == 0 &&
                               done.user_data == 77));
    int completions = explicit_rc == 0 ? 3 : 2;
    /* the policy's own choice (spin_ns < 0) does not spin for a slow server; of two calls in
     * a row at most one is the policy's probe (every 32nd call that would not spin does) */
    call(c, OP_SLOW, 1);
    int64_t policy_cpu = INT64_MAX;
    for (int i = 0; i < 2; i++) {
        cpu0 = thread_cpu_ns();
        CHECK_RC(rpal_call_submit_spin(c, &(struct rpal_msg){.words = {OP_SLOW, 4}}, 78, -1, &id,
                                       &done), 0);
        int64_t cpu = thread_cpu_ns() - cpu0;
        policy_cpu = cpu < policy_cpu ? cpu : policy_cpu;
    }
    CHECK(policy_cpu < BUDGET_NS / 2);
    /* the completions come through rpal_call_complete, reported by the set (EPOLLRPALREPLY) */
    int ep = rpal_epoll_create(EPOLL_CLOEXEC);
    CHECK_OK(ep);
    struct epoll_event ev = {.events = EPOLLRPALIN | EPOLLRPALREPLY, .data.u64 = 1};
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_conn_fd(c), &ev));
    for (int got = 0; got < completions;) {
        int rc = rpal_call_complete(c, &done);
        if (rc == -EAGAIN) {
            CHECK(test_wait_conn(ep, EPOLLRPALREPLY, 10000) != 0);
            continue;
        }
        CHECK_OK(rc);
        CHECK(done.res == 0 && (done.user_data == 77 || done.user_data == 78));
        got++;
    }

    /* The same set, idle now: its first wait spins 5 ms and learns that nothing comes; the next ten
     * 20 ms waits park at once (ten spins would take 50 ms of CPU). */
    struct epoll_event out[4];
    CHECK_RC(rpal_epoll_wait(ep, out, 4, 20), 0);
    cpu0 = thread_cpu_ns();
    for (int i = 0; i < 10; i++)
        CHECK_RC(rpal_epoll_wait(ep, out, 4, 20), 0);
    int64_t idle_cpu = thread_cpu_ns() - cpu0;
    CHECK(idle_cpu < 2 * BUDGET_NS);
    CHECK_OK(rpal_epoll_close(ep));

    CHECK_OK(rpal_release_service(c));
    CHECK_CHILD(pid, 10000);
    CHECK_OK(rpal_exit());
    printf("spin_policy (budget %d ms): 10 calls to a 20 ms server used %.2f ms of CPU, "
           "%llu of 1000 back-to-back calls spun, an explicit 5 ms spin took %.2f ms (%.2f ms "
           "CPU) and the policy's %.2f ms CPU, 10 idle 20 ms waits used %.2f ms of CPU\n",
           BUDGET_NS / 1000000, slow_cpu / 1e6, (unsigned long long)spun, explicit_wall / 1e6,
           explicit_cpu / 1e6, policy_cpu / 1e6, idle_cpu / 1e6);
    return 0;
}
