/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the C tests. Each test is a small program: exit 0 pass,
 * 1 fail, 77 skip. Cross-process tests fork children that call rpal_init()
 * themselves (a process must not keep using RPAL across fork()). Nothing
 * here sleeps to wait for something: waits poll a condition with a deadline.
 */
#ifndef RPAL_TEST_UTIL_H
#define RPAL_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rpal.h"

#define TEST_PASS 0
#define TEST_FAIL 1
#define TEST_SKIP 77

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);    \
            exit(TEST_FAIL);                                                             \
        }                                                                                \
    } while (0)

/* expr returns 0 or -errno (librpal's convention). */
#define CHECK_OK(expr)                                                                   \
    do {                                                                                 \
        long long rc_ = (long long)(expr);                                               \
        if (rc_ < 0) {                                                                   \
            fprintf(stderr, "%s:%d: %s failed: %lld (%s)\n", __FILE__, __LINE__, #expr, \
                    rc_, strerror((int)-rc_));                                           \
            exit(TEST_FAIL);                                                             \
        }                                                                                \
    } while (0)

/* expr must return exactly want (a negative errno, say). */
#define CHECK_RC(expr, want)                                                             \
    do {                                                                                 \
        long long rc_ = (long long)(expr);                                               \
        if (rc_ != (long long)(want)) {                                                  \
            fprintf(stderr, "%s:%d: %s returned %lld (%s), want %lld (%s)\n", __FILE__,  \
                    __LINE__, #expr, rc_, rc_ < 0 ? strerror((int)-rc_) : "ok",          \
                    (long long)(want), (want) < 0 ? strerror(-(int)(want)) : "ok");     \
            exit(TEST_FAIL);                                                             \
        }                                                                                \
    } while (0)

static inline void test_skip(const char *why)
{
    printf("skip: %s\n", why);
    fflush(stdout);
    exit(TEST_SKIP);
}

static inline int64_t test_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A unique service name for this test run. */
static inline const char *test_service_name(const char *base)
{
    static char name[RPAL_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s.%d", base, (int)getpid());
    return name;
}

/* A one-byte channel between parent and child: "ready", "go", "done". */
struct test_pipe {
    int rd, wr;
};

static inline void test_pipe_open(struct test_pipe *p)
{
    int fds[2];
    CHECK(pipe2(fds, O_CLOEXEC) == 0);
    p->rd = fds[0];
    p->wr = fds[1];
}

static inline void test_pipe_put(struct test_pipe *p, char c)
{
    CHECK(write(p->wr, &c, 1) == 1);
}

/* Waits up to timeout_ms for one byte; returns it, or -1 on timeout/EOF. */
static inline int test_pipe_get(struct test_pipe *p, int timeout_ms)
{
    struct pollfd pfd = {.fd = p->rd, .events = POLLIN};
    int n;
    do {
        n = poll(&pfd, 1, timeout_ms);
    } while (n < 0 && errno == EINTR);
    if (n <= 0)
        return -1;
    char c;
    if (read(p->rd, &c, 1) != 1)
        return -1;
    return (unsigned char)c;
}

/* Waits up to timeout_ms for the byte want; anything else (another byte, a
 * timeout, EOF) fails the test, naming the process. */
static inline void test_pipe_expect(struct test_pipe *p, char want, int timeout_ms)
{
    int c = test_pipe_get(p, timeout_ms);
    if (c != want) {
        fprintf(stderr, "pid %d: expected '%c' on the pipe, got %d\n", (int)getpid(), want, c);
        exit(TEST_FAIL);
    }
}

/* Forks a child that runs fn(arg) and exits with its return value. */
static inline pid_t test_fork(int (*fn)(void *), void *arg)
{
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* a test killed at its timeout must not leave a child behind (spinning, say) */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(TEST_FAIL);
        int rc = fn(arg);
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    return pid;
}

/* Waits up to timeout_ms for child pid; returns its exit status (a signal
 * number is returned as 128 + signo), or -1 on timeout (the child is then
 * killed). */
static inline int test_wait(pid_t pid, int timeout_ms)
{
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd >= 0) {
        struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
        int n;
        do {
            n = poll(&pfd, 1, timeout_ms);
        } while (n < 0 && errno == EINTR);
        close(pidfd);
        if (n == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fprintf(stderr, "child %d timed out after %d ms\n", (int)pid, timeout_ms);
            return -1;
        }
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* Expects child pid to exit 0 within timeout_ms. */
#define CHECK_CHILD(pid, timeout_ms) CHECK(test_wait((pid), (timeout_ms)) == 0)

/* rpal_init with small settings suitable for tests (a 2-core machine:
 * keep spinning short). */
static inline void test_init(void)
{
    struct rpal_options o;
    CHECK_OK(rpal_options_init(&o));
    if (!getenv("RPAL_ARENA_SIZE"))
        o.arena_size = 16u << 20;
    if (!getenv("RPAL_SPIN_NS"))
        o.spin_ns = 20000;
    CHECK_OK(rpal_init(&o));
}

/* Runs rpal_epoll_wait on a one-connection set until it reports mask, up to
 * timeout_ms. Returns the events seen, or 0 on timeout. */
static inline uint32_t test_wait_conn(int epfd, uint32_t mask, int timeout_ms)
{
    int64_t deadline = test_now_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        int64_t left = (deadline - test_now_ns()) / 1000000;
        if (left < 0)
            return 0;
        struct epoll_event ev[8];
        int n = rpal_epoll_wait(epfd, ev, 8, (int)left);
        CHECK(n >= 0);
        uint32_t seen = 0;
        for (int i = 0; i < n; i++)
            seen |= ev[i].events;
        if (seen & mask)
            return seen;
    }
}

/* Server side: registers name, makes an rpal epoll set holding the
 * service's listening fd (data.u64 = 0). */
static inline struct rpal_service *test_serve(const char *name, int *epfd)
{
    struct rpal_service *svc;
    CHECK_OK(rpal_register_service(name, &svc, NULL));
    *epfd = rpal_epoll_create(EPOLL_CLOEXEC);
    CHECK_OK(*epfd);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
    CHECK_OK(rpal_epoll_ctl(*epfd, EPOLL_CTL_ADD, rpal_service_fd(svc), &ev));
    return svc;
}

/* Waits up to timeout_ms for a client, accepts it and adds it to epfd with
 * data.ptr = the connection. */
static inline struct rpal_conn *test_accept(struct rpal_service *svc, int epfd, int timeout_ms)
{
    int64_t deadline = test_now_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        struct rpal_conn *c;
        int rc = rpal_accept(svc, &c);
        if (rc == 0) {
            struct epoll_event ev = {.events = 0, .data.ptr = c};
            CHECK_OK(rpal_epoll_ctl(epfd, EPOLL_CTL_ADD, rpal_conn_fd(c), &ev));
            return c;
        }
        CHECK_RC(rc, -EAGAIN);
        struct pollfd p = {.fd = rpal_service_fd(svc), .events = POLLIN};
        int64_t left = (deadline - test_now_ns()) / 1000000;
        CHECK(left > 0);
        poll(&p, 1, (int)left);
    }
}

/* Connects to name, retrying while it is not registered yet. */
static inline struct rpal_conn *test_connect(const char *name, int timeout_ms)
{
    int64_t deadline = test_now_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        struct rpal_conn *c;
        int rc = rpal_request_service(name, &c);
        if (rc == 0)
            return c;
        if (rc != -ENOENT || test_now_ns() > deadline) {
            fprintf(stderr, "connect %s: %s\n", name, strerror(-rc));
            exit(TEST_FAIL);
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL); /* the server is starting: poll for its socket */
    }
}

#endif
