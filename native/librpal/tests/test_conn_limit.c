/* SPDX-License-Identifier: MIT */
/*
 * A service at its connection limit, with the engine's default options (the
 * arena, rings and calls of rpal_options_init()): a server process accepts
 * 1,024 connections from one client process (the .NET default,
 * RpalServerOptions.MaxConnectionsPerService), the 1,025th is refused with
 * -EUSERS (the limit, not -ENOMEM: the connection blocks fit in the arena),
 * and every connected client is still answered with a payload, one of them
 * with a 16 MiB reply (the default MaxReceiveMessageSize). A second service
 * of the same server, without a limit, then refuses its first client with
 * -ENOSPC: the connection blocks hold their share of the arena, the rest is
 * kept for messages.
 */
#include <sys/resource.h>

#include "test_util.h"

#define LIMIT 1024
#define PAYLOAD 4096
#define BIG_REPLY (16u << 20)

static const char *s_name;
static const char *s_unlimited;
static struct test_pipe s_to_server, s_to_client;

/* Defaults, except for spinning: 1,024 connections on 2 cores park at once. */
static void init_defaults(void)
{
    struct rpal_options o;
    CHECK_OK(rpal_options_init(&o));
    o.spin_ns = 0;
    CHECK_OK(rpal_init(&o));
}

static void serve_one(struct rpal_conn *c)
{
    struct rpal_msg m;
    while (rpal_recv(c, &m) == 0) {
        if (!m.id)
            continue;
        size_t len = m.words[1] ? (size_t)m.words[1] : PAYLOAD;
        void *p;
        CHECK_OK(rpal_alloc(len, &p));
        memset(p, (int)(m.words[0] & 0xff), len);
        CHECK_OK(rpal_reply(c, m.id, &(struct rpal_msg){.words = {m.words[0]}, .data = p, .len = len}));
    }
}

static int server(void *arg)
{
    (void)arg;
    init_defaults();
    struct rpal_service *limited, *unlimited;
    struct rpal_service_params p = {.size = sizeof p, .max_conns = LIMIT};
    CHECK_OK(rpal_register_service_params(s_name, &p, &limited, NULL));
    CHECK_OK(rpal_register_service(s_unlimited, &unlimited, NULL));
    int ep = rpal_epoll_create(EPOLL_CLOEXEC);
    CHECK_OK(ep);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1};
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_service_fd(limited), &ev));
    ev.data.u64 = 2;
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_service_fd(unlimited), &ev));
    ev.data.u64 = 3;
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, s_to_server.rd, &ev));
    test_pipe_put(&s_to_client, 'r');

    int accepted = 0, refused_limit = 0, refused_arena = 0;
    for (bool quit = false; !quit;) {
        struct epoll_event evs[64];
        int n = rpal_epoll_wait(ep, evs, 64, 10000);
        CHECK(n > 0); /* the client is never idle for 10 s */
        for (int i = 0; i < n; i++) {
            uint64_t d = evs[i].data.u64;
            if (d == 3) {
                quit = true;
            } else if (d == 1 || d == 2) {
                struct rpal_conn *c;
                int rc;
                while ((rc = rpal_accept(d == 1 ? limited : unlimited, &c)) != -EAGAIN) {
                    if (rc == 0) {
                        struct epoll_event cev = {.events = 0, .data.ptr = c};
                        CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_conn_fd(c), &cev));
                        accepted++;
                    } else if (rc == -EUSERS) {
                        refused_limit++;
                    } else {
                        CHECK_RC(rc, -ENOSPC);
                        refused_arena++;
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
    CHECK(accepted == LIMIT && refused_limit == 1 && refused_arena == 1);
    CHECK_OK(rpal_unregister_service(limited));
    CHECK_OK(rpal_unregister_service(unlimited));
    CHECK_OK(rpal_epoll_close(ep));
    CHECK_OK(rpal_exit());
    return 0;
}

static void check_reply(struct rpal_conn *c, uint64_t tag, size_t len)
{
    struct rpal_msg reply;
    CHECK_OK(rpal_call(c, &(struct rpal_msg){.words = {tag, len}}, &reply, 10000));
    CHECK(reply.words[0] == tag && reply.len == len && reply.data);
    const unsigned char *b = reply.data;
    CHECK(b[0] == (tag & 0xff) && b[len / 2] == (tag & 0xff) && b[len - 1] == (tag & 0xff));
    CHECK_OK(rpal_release(c, &reply));
}

int main(void)
{
    /* two connections' fds (socket, pidfd) per client at each end, and the
     * server's reserve */
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 4 * LIMIT)
        test_skip("RLIMIT_NOFILE's hard limit is below 4096");
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 8 * LIMIT ? 8 * LIMIT : rl.rlim_max;
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);

    static char limited[RPAL_NAME_MAX + 1], unlimited[RPAL_NAME_MAX + 1];
    snprintf(limited, sizeof limited, "connlimit.%d", (int)getpid());
    snprintf(unlimited, sizeof unlimited, "connlimit-any.%d", (int)getpid());
    s_name = limited;
    s_unlimited = unlimited;
    test_pipe_open(&s_to_server);
    test_pipe_open(&s_to_client);
    pid_t pid = test_fork(server, NULL);
    CHECK(test_pipe_get(&s_to_client, 30000) == 'r');
    init_defaults();

    static struct rpal_conn *conns[LIMIT];
    int64_t start = test_now_ns();
    for (int i = 0; i < LIMIT; i++)
        CHECK_OK(rpal_request_service(s_name, &conns[i]));
    int64_t connected = test_now_ns();
    struct rpal_conn *extra;
    CHECK_RC(rpal_request_service(s_name, &extra), -EUSERS);
    CHECK_RC(rpal_request_service(s_unlimited, &extra), -ENOSPC);

    /* every client at the limit is served, payloads included */
    for (int i = 0; i < LIMIT; i++)
        check_reply(conns[i], (uint64_t)i, PAYLOAD);
    check_reply(conns[LIMIT - 1], 0x5a, BIG_REPLY);
    int64_t served = test_now_ns();

    for (int i = 0; i < LIMIT; i++)
        CHECK_OK(rpal_release_service(conns[i]));
    test_pipe_put(&s_to_server, 'q');
    CHECK_CHILD(pid, 30000);
    CHECK_OK(rpal_exit());
    printf("%d connections in %lld ms, %d calls with payloads in %lld ms; "
           "the next refused with EUSERS, an unlimited service's with ENOSPC\n",
           LIMIT, (long long)((connected - start) / 1000000), LIMIT + 1,
           (long long)((served - connected) / 1000000));
    return 0;
}
