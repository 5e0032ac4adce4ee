/* SPDX-License-Identifier: MIT */
/*
 * File descriptor exhaustion, across processes. A server runs under a low
 * RLIMIT_NOFILE (set in its process before rpal_init) and a flood of
 * clients connects:
 *  - the server takes clients while it can keep its reserve of fds, then
 *    refuses the others with -EMFILE (never a truncated hello read as
 *    -EPROTO, never a client left without an answer), and it keeps serving
 *    the client that connected first;
 *  - once clients leave, new ones are accepted again;
 *  - when something else in the server's process takes every fd left,
 *    accept4() itself fails: the client is still taken (with the spare fd)
 *    and told -EMFILE, and the server recovers when the fds come back;
 *  - a client that is itself out of fds cannot receive the server's arena
 *    (MSG_CTRUNC) and says so: -EMFILE, not -EPROTO.
 */
#include <sys/resource.h>

#include "test_util.h"

#define SERVER_NOFILE 96
#define FLOOD 80
#define PAYLOAD 1024

static const char *s_name;
static struct test_pipe s_to_server, s_to_client;

static void serve_one(struct rpal_conn *c)
{
    struct rpal_msg m;
    while (rpal_recv(c, &m) == 0) {
        if (!m.id)
            continue;
        void *p;
        CHECK_OK(rpal_alloc(PAYLOAD, &p));
        memset(p, (int)(m.words[0] & 0xff), PAYLOAD);
        CHECK_OK(rpal_reply(c, m.id, &(struct rpal_msg){.words = {m.words[0]}, .data = p, .len = PAYLOAD}));
    }
}

static int server(void *arg)
{
    (void)arg;
    struct rlimit rl = {.rlim_cur = SERVER_NOFILE, .rlim_max = SERVER_NOFILE};
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    struct rpal_options o;
    CHECK_OK(rpal_options_init(&o));
    o.spin_ns = 0;
    o.arena_size = 16u << 20;
    CHECK_OK(rpal_init(&o));
    int ep;
    struct rpal_service *svc = test_serve(s_name, &ep);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 3};
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, s_to_server.rd, &ev));
    test_pipe_put(&s_to_client, 'r');

    int fillers[SERVER_NOFILE], nfill = 0;
    int accepted = 0, refused = 0;
    for (bool quit = false; !quit;) {
        struct epoll_event evs[32];
        int n = rpal_epoll_wait(ep, evs, 32, 10000);
        CHECK(n > 0);
        for (int i = 0; i < n; i++) {
            uint64_t d = evs[i].data.u64;
            if (d == 3) {
                char cmd;
                CHECK(read(s_to_server.rd, &cmd, 1) == 1);
                if (cmd == 'f') { /* take every fd left, as another part of the process could */
                    int f;
                    while ((f = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
                        fillers[nfill++] = f;
                    CHECK(errno == EMFILE);
                } else if (cmd == 'e') {
                    while (nfill)
                        close(fillers[--nfill]);
                } else {
                    quit = true;
                }
                test_pipe_put(&s_to_client, (char)(cmd - 'a' + 'A'));
            } else if (d == 0) {
                struct rpal_conn *c;
                int rc;
                while ((rc = rpal_accept(svc, &c)) != -EAGAIN) {
                    if (rc == 0) {
                        struct epoll_event cev = {.events = 0, .data.ptr = c};
                        CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_conn_fd(c), &cev));
                        accepted++;
                    } else {
                        CHECK_RC(rc, -EMFILE);
                        refused++;
                    }
                }
            } else {
                struct rpal_conn *c = evs[i].data.ptr;
                if (evs[i].events & EPOLLRPALIN)
                    serve_one(c);
                if (evs[i].events & EPOLLRPALHUP) {
                    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_DEL, rpal_conn_fd(c), NULL));
                    CHECK_OK(rpal_release_service(c));
                }
            }
        }
    }
    printf("server under RLIMIT_NOFILE %d: %d clients accepted, %d refused\n", SERVER_NOFILE,
           accepted, refused);
    CHECK(refused > 0);
    CHECK_OK(rpal_unregister_service(svc));
    CHECK_OK(rpal_epoll_close(ep));
    CHECK_OK(rpal_exit());
    return 0;
}

static void check_reply(struct rpal_conn *c, uint64_t tag)
{
    struct rpal_msg reply;
    CHECK_OK(rpal_call(c, &(struct rpal_msg){.words = {tag}}, &reply, 10000));
    CHECK(reply.words[0] == tag && reply.len == PAYLOAD && reply.data);
    CHECK(((const unsigned char *)reply.data)[PAYLOAD - 1] == (tag & 0xff));
    CHECK_OK(rpal_release(c, &reply));
}

static void command(char cmd)
{
    test_pipe_put(&s_to_server, cmd);
    CHECK(test_pipe_get(&s_to_client, 10000) == cmd - 'a' + 'A');
}

int main(void)
{
    s_name = test_service_name("fdlimit");
    test_pipe_open(&s_to_server);
    test_pipe_open(&s_to_client);
    pid_t pid = test_fork(server, NULL);
    CHECK(test_pipe_get(&s_to_client, 30000) == 'r');
    struct rpal_options o;
    CHECK_OK(rpal_options_init(&o));
    o.spin_ns = 0;
    o.arena_size = 16u << 20;
    CHECK_OK(rpal_init(&o));

    struct rpal_conn *first = test_connect(s_name, 10000);
    check_reply(first, 1);

    /* the flood: every client is either connected or told EMFILE */
    static struct rpal_conn *flood[FLOOD];
    int connected = 0, refused = 0;
    for (int i = 0; i < FLOOD; i++) {
        struct rpal_conn *c;
        int rc = rpal_request_service(s_name, &c);
        if (rc == 0) {
            flood[connected++] = c;
        } else {
            CHECK_RC(rc, -EMFILE);
            refused++;
        }
    }
    CHECK(connected > 0 && refused > 0);
    check_reply(first, 2);
    for (int i = 0; i < connected; i++)
        check_reply(flood[i], (uint64_t)i);

    /* clients leave: there is room again (the server notices each hang-up
     * in its own time, so wait for it with a bound) */
    for (int i = 0; i < connected; i++)
        CHECK_OK(rpal_release_service(flood[i]));
    struct rpal_conn *again = NULL;
    int64_t deadline = test_now_ns() + 10000000000;
    for (;;) {
        int rc = rpal_request_service(s_name, &again);
        if (rc == 0)
            break;
        CHECK_RC(rc, -EMFILE);
        CHECK(test_now_ns() < deadline);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL); /* polling the server's progress, which we cannot wait on */
    }
    check_reply(again, 3);
    CHECK_OK(rpal_release_service(again));

    /* the server's process has no fd left at all: accept4() fails; the
     * client is still told, and the connected one still served */
    command('f');
    struct rpal_conn *c;
    CHECK_RC(rpal_request_service(s_name, &c), -EMFILE);
    CHECK_RC(rpal_request_service(s_name, &c), -EMFILE);
    check_reply(first, 4);
    command('e');
    deadline = test_now_ns() + 10000000000;
    for (;;) { /* a listener paused for want of a spare fd resumes within 100 ms */
        int rc = rpal_request_service(s_name, &c);
        if (rc == 0)
            break;
        CHECK_RC(rc, -EMFILE);
        CHECK(test_now_ns() < deadline);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    check_reply(c, 5);
    CHECK_OK(rpal_release_service(c));

    /* this process is out of fds but for the socket: the server's arena
     * cannot be received */
    static int fillers[1 << 16];
    int nfill = 0, f;
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    if (rl.rlim_cur > (1 << 16)) {
        rl.rlim_cur = 1 << 16;
        CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    }
    while ((f = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        fillers[nfill++] = f;
    close(fillers[--nfill]);
    int rc = rpal_request_service(s_name, &c);
    while (nfill)
        close(fillers[--nfill]);
    CHECK_RC(rc, -EMFILE);
    check_reply(first, 6);

    CHECK_OK(rpal_release_service(first));
    command('q');
    CHECK_CHILD(pid, 30000);
    CHECK_OK(rpal_exit());
    printf("flood of %d: %d connected, %d refused with EMFILE; the first client served throughout\n",
           FLOOD, connected, refused);
    return 0;
}
