/* SPDX-License-Identifier: MIT */
/*
 * A peer of another uid is refused, on both sides of the handshake.
 *
 * Runs as root (skips otherwise). A server child switches to uid/gid 65534
 * and registers a service in its own runtime directory. Root, with a runtime
 * directory of its own, links services/NAME.sock to the child's socket
 * (connect follows symlinks), so that:
 *  - rpal_request_service(NAME) from root reaches the other-uid server and
 *    gets -EACCES (the client checks the server's SO_PEERCRED);
 *  - a raw root client (plain SOCK_SEQPACKET connect) gets a REFUSE message
 *    with status -EACCES from the server, whose rpal_accept returns -EACCES
 *    for it (the server checks too);
 *  - the server keeps working: a client child that also runs as 65534
 *    connects and makes calls.
 * Every child is forked before root calls rpal_init().
 */
#include <ftw.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "internal.h" /* struct rpal_hs_msg: the handshake wire format */
#include "test_util.h"

#define NOBODY 65534
#define CALLS 100

static char s_tmp[64];
static char s_srv_dir[128];  /* owned by 65534 */
static char s_root_dir[128]; /* owned by root */
static const char *s_name;
static struct test_pipe s_srv_from, s_cli_to, s_fake_to, s_fake_from;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void become_nobody(void)
{
    CHECK(setgroups(0, NULL) == 0);
    CHECK(setresgid(NOBODY, NOBODY, NOBODY) == 0);
    CHECK(setresuid(NOBODY, NOBODY, NOBODY) == 0);
    CHECK(getuid() == NOBODY && geteuid() == NOBODY && getegid() == NOBODY);
    CHECK(setenv("RPAL_RUNTIME_DIR", s_srv_dir, 1) == 0);
}

/* Waits for one client and returns rpal_accept's result for it. */
static int accept_one(struct rpal_service *svc, struct rpal_conn **c, int timeout_ms)
{
    int64_t deadline = test_now_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        int rc = rpal_accept(svc, c);
        if (rc != -EAGAIN)
            return rc;
        struct pollfd p = {.fd = rpal_service_fd(svc), .events = POLLIN};
        int64_t left = (deadline - test_now_ns()) / 1000000;
        CHECK(left > 0);
        poll(&p, 1, (int)left);
    }
}

/* The server, as 65534: reports each accept's result ('A' for -EACCES,
 * 'C' for a connection) and serves the connection it gets. */
static int server(void *arg)
{
    become_nobody();
    test_init();
    struct rpal_service *svc;
    uint64_t key;
    CHECK_OK(rpal_register_service(s_name, &svc, &key));
    test_pipe_put(&s_srv_from, 'r');

    struct rpal_conn *c = NULL;
    for (int i = 0; i < 2; i++) { /* root's rpal client, then root's raw client */
        int rc = accept_one(svc, &c, 10000);
        if (rc != -EACCES) {
            fprintf(stderr, "server: accept %d returned %d (%s), want -EACCES\n", i, rc,
                    strerror(-rc));
            test_pipe_put(&s_srv_from, 'X');
            return 1;
        }
        test_pipe_put(&s_srv_from, 'A');
    }
    /* then a client of our own uid */
    int rc = accept_one(svc, &c, 10000);
    if (rc != 0) {
        fprintf(stderr, "server: accept of the 65534 client: %s\n", strerror(-rc));
        return 1;
    }
    struct rpal_peer_info info;
    CHECK_OK(rpal_conn_info(c, &info));
    CHECK(info.uid == NOBODY && info.gid == NOBODY);
    test_pipe_put(&s_srv_from, 'C');
    int ep = rpal_epoll_create(EPOLL_CLOEXEC);
    CHECK_OK(ep);
    struct epoll_event ev = {.events = 0, .data.ptr = c};
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_conn_fd(c), &ev));
    int answered = 0;
    bool hup = false;
    while (!hup) {
        uint32_t e = test_wait_conn(ep, EPOLLRPALIN | EPOLLRPALHUP, 10000);
        CHECK(e != 0);
        struct rpal_msg m;
        while (rpal_recv(c, &m) == 0) {
            struct rpal_msg r = {.words = {m.words[0] + 1, key}};
            CHECK_OK(rpal_reply(c, m.id, &r));
            answered++;
        }
        hup = e & EPOLLRPALHUP;
    }
    CHECK(answered == CALLS);
    CHECK_OK(rpal_release_service(c));
    CHECK_OK(rpal_epoll_close(ep));
    CHECK_OK(rpal_exit());
    return 0;
}

/* A client as 65534, in the server's runtime directory. */
static int nobody_client(void *arg)
{
    CHECK(test_pipe_get(&s_cli_to, 20000) == 'g');
    become_nobody();
    test_init();
    struct rpal_conn *c;
    CHECK_OK(rpal_request_service(s_name, &c));
    struct rpal_peer_info info;
    CHECK_OK(rpal_conn_info(c, &info));
    CHECK(info.uid == NOBODY);
    for (uint64_t i = 0; i < CALLS; i++) {
        struct rpal_msg req = {.words = {i * 3}}, rep;
        CHECK_OK(rpal_call(c, &req, &rep, 5000));
        CHECK(rep.words[0] == i * 3 + 1 && rep.words[1] == info.key);
    }
    CHECK_OK(rpal_release_service(c));
    CHECK_OK(rpal_exit());
    return 0;
}

/* A bare listener as 65534 that answers anyone with REFUSE -EPERM: a client
 * that did not check the server's uid itself would report -EPERM. */
static char s_fake_path[200];

static int fake_server(void *arg)
{
    CHECK(test_pipe_get(&s_fake_to, 20000) == 'f');
    become_nobody();
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    CHECK(strlen(s_fake_path) < sizeof sun.sun_path);
    strcpy(sun.sun_path, s_fake_path);
    CHECK(bind(fd, (struct sockaddr *)&sun, sizeof sun) == 0);
    CHECK(listen(fd, 4) == 0);
    test_pipe_put(&s_fake_from, 'f');
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK(poll(&p, 1, 10000) == 1);
    int c = accept(fd, NULL, NULL);
    CHECK(c >= 0);
    struct rpal_hs_msg m = {.magic = RPAL_MAGIC, .protocol = RPAL_PROTOCOL,
                            .type = RPAL_HS_REFUSE, .status = -EPERM};
    send(c, &m, sizeof m, MSG_NOSIGNAL); /* fails when the client already left */
    close(c);
    close(fd);
    return 0;
}

/* Connects to path as a bare socket and reads the server's one message. */
static void raw_client(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    CHECK(strlen(path) < sizeof sun.sun_path);
    strcpy(sun.sun_path, path);
    CHECK(connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0);
    /* a HELLO-shaped message (without fds), so a server that skipped the
     * uid check would answer REFUSE -EPROTO instead. The server may have
     * refused and closed already: then the send fails, and that is fine. */
    struct rpal_hs_msg hello = {.magic = RPAL_MAGIC, .protocol = RPAL_PROTOCOL,
                                .type = RPAL_HS_HELLO};
    snprintf(hello.name, sizeof hello.name, "%s", s_name);
    ssize_t sent = send(fd, &hello, sizeof hello, MSG_NOSIGNAL);
    CHECK(sent == (ssize_t)sizeof hello || (sent < 0 && (errno == EPIPE || errno == ECONNRESET)));
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK(poll(&p, 1, 10000) == 1);
    struct rpal_hs_msg m;
    memset(&m, 0, sizeof m);
    ssize_t n = recv(fd, &m, sizeof m, 0);
    /* When the server closed with our HELLO unread, Linux reports
     * ECONNRESET once, ahead of the message it had queued: read again. */
    if (n < 0 && errno == ECONNRESET)
        n = recv(fd, &m, sizeof m, MSG_DONTWAIT);
    if (n != (ssize_t)sizeof m) {
        fprintf(stderr, "raw client: read %zd bytes (%s), want %zu\n", n,
                n < 0 ? strerror(errno) : "", sizeof m);
        exit(TEST_FAIL);
    }
    CHECK(m.magic == RPAL_MAGIC && m.protocol == RPAL_PROTOCOL);
    if (m.type != RPAL_HS_REFUSE || m.status != -EACCES) {
        fprintf(stderr, "raw client: got type %u status %d, want REFUSE -EACCES\n", m.type,
                m.status);
        exit(TEST_FAIL);
    }
    /* and the server hangs up (ECONNRESET: it closed with our HELLO unread) */
    CHECK(poll(&p, 1, 10000) == 1);
    n = recv(fd, &m, sizeof m, 0);
    CHECK(n == 0 || (n < 0 && errno == ECONNRESET));
    close(fd);
}

int main(void)
{
    if (geteuid() != 0)
        test_skip("needs root to run a server as another uid (65534)");
    /* /tmp, not $TMPDIR: uid 65534 must be able to walk down to its
     * directory, and /tmp is searchable by everyone */
    snprintf(s_tmp, sizeof s_tmp, "/tmp/rpal-acc-XXXXXX");
    CHECK(mkdtemp(s_tmp) != NULL);
    CHECK(chmod(s_tmp, 0711) == 0); /* 65534 must reach its directory inside */
    snprintf(s_srv_dir, sizeof s_srv_dir, "%s/srv", s_tmp);
    snprintf(s_root_dir, sizeof s_root_dir, "%s/root", s_tmp);
    CHECK(mkdir(s_srv_dir, 0700) == 0);
    CHECK(chown(s_srv_dir, NOBODY, NOBODY) == 0);
    CHECK(mkdir(s_root_dir, 0700) == 0);
    char services[160];
    snprintf(services, sizeof services, "%s/services", s_root_dir);
    CHECK(mkdir(services, 0700) == 0);
    s_name = test_service_name("access");

    test_pipe_open(&s_srv_from);
    test_pipe_open(&s_cli_to);
    test_pipe_open(&s_fake_to);
    test_pipe_open(&s_fake_from);
    pid_t srv = test_fork(server, NULL);
    pid_t cli = test_fork(nobody_client, NULL);
    snprintf(s_fake_path, sizeof s_fake_path, "%s/fake.sock", s_srv_dir);
    pid_t fake = test_fork(fake_server, NULL);
    int r = test_pipe_get(&s_srv_from, 10000);
    if (r != 'r') {
        fprintf(stderr, "server did not start (%d, exit %d)\n", r, test_wait(srv, 5000));
        return TEST_FAIL;
    }

    /* root's services/NAME.sock leads to the 65534 server's socket */
    char target[200], link[200];
    snprintf(target, sizeof target, "%s/services/%s.sock", s_srv_dir, s_name);
    snprintf(link, sizeof link, "%s/%s.sock", services, s_name);
    CHECK(symlink(target, link) == 0);

    CHECK(setenv("RPAL_RUNTIME_DIR", s_root_dir, 1) == 0);
    test_init();
    struct rpal_conn *c = NULL;
    CHECK_RC(rpal_request_service(s_name, &c), -EACCES);
    CHECK(c == NULL);
    CHECK(test_pipe_get(&s_srv_from, 10000) == 'A'); /* the server refused it too */

    /* the client checks the server's uid itself: a server of another uid
     * that does not refuse (or refuses for another reason) is -EACCES too */
    test_pipe_put(&s_fake_to, 'f');
    CHECK(test_pipe_get(&s_fake_from, 10000) == 'f');
    char fake_link[200];
    snprintf(fake_link, sizeof fake_link, "%s/fake-%s.sock", services, s_name);
    CHECK(symlink(s_fake_path, fake_link) == 0);
    char fake_name[RPAL_NAME_MAX + 1];
    snprintf(fake_name, sizeof fake_name, "fake-%s", s_name);
    CHECK_RC(rpal_request_service(fake_name, &c), -EACCES);
    CHECK_CHILD(fake, 10000);

    raw_client(target);
    CHECK(test_pipe_get(&s_srv_from, 10000) == 'A');

    /* the server is still fine: a client of its own uid gets through */
    test_pipe_put(&s_cli_to, 'g');
    CHECK(test_pipe_get(&s_srv_from, 10000) == 'C');
    CHECK_CHILD(cli, 20000);
    CHECK_CHILD(srv, 20000);

    CHECK_OK(rpal_exit());
    nftw(s_tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    printf("access: ok\n");
    return 0;
}
