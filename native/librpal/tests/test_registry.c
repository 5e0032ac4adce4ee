/* SPDX-License-Identifier: MIT */
/*
 * Service registry and handshake across processes:
 *  - register gives a non-zero key; rpal_conn_info on both ends names the
 *    real other process (pid, uid, gid, slot = its rpal_slot_id), the
 *    server's key and the service name;
 *  - a second process registering a live name gets -EADDRINUSE; once the
 *    first is killed (its entry and socket file stay behind) a new process
 *    takes the name over and clients reach it; meanwhile the name gives
 *    -ENOENT, as does a socket file nobody listens on and an unknown name;
 *  - bad names: -EINVAL, 65 bytes: -ENAMETOOLONG; the same name twice in one
 *    process: -EADDRINUSE;
 *  - unregister: new requests get -ENOENT, the accepted connection still
 *    carries calls;
 *  - a missing runtime directory is created mode 0700;
 *  - one server, three client processes connecting at once, each calling.
 *
 * Every child is forked before this process calls rpal_init().
 */
#include <ftw.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "test_util.h"

#define NCLIENTS 3
#define CLIENT_CALLS 2000

static char s_tmp[64];
static char s_rt[128];
static char s_name[RPAL_NAME_MAX + 1];   /* taken over from a killed server */
static char s_multi[RPAL_NAME_MAX + 1];  /* one server, three clients */

/* -------------------------------------------------------------- plumbing */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void put_u64(struct test_pipe *p, uint64_t v)
{
    CHECK(write(p->wr, &v, sizeof v) == sizeof v);
}

static uint64_t get_u64(struct test_pipe *p, int timeout_ms)
{
    uint64_t v = 0;
    unsigned char *b = (unsigned char *)&v;
    for (size_t i = 0; i < sizeof v; i++) {
        int c = test_pipe_get(p, timeout_ms);
        CHECK(c >= 0);
        b[i] = (unsigned char)c;
    }
    return v;
}

static bool exists(const char *rel)
{
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", s_rt, rel);
    return stat(path, &st) == 0;
}

/* Serves calls on c (reply: words[0] * 2 + 1, words[1] = key, words[2] =
 * our pid) until the peer hangs up or max calls were answered. Returns the
 * number of calls answered. */
static int serve(int ep, struct rpal_conn *c, uint64_t key, int max, int timeout_ms)
{
    int answered = 0;
    int64_t deadline = test_now_ns() + (int64_t)timeout_ms * 1000000;
    while (answered < max) {
        int64_t left = (deadline - test_now_ns()) / 1000000;
        CHECK(left > 0);
        uint32_t ev = test_wait_conn(ep, EPOLLRPALIN | EPOLLRPALHUP, (int)left);
        struct rpal_msg m;
        while (answered < max && rpal_recv(c, &m) == 0) {
            CHECK(m.id != 0);
            struct rpal_msg r = {.words = {m.words[0] * 2 + 1, key, (uint64_t)getpid()}};
            CHECK_OK(rpal_reply(c, m.id, &r));
            answered++;
        }
        if ((ev & EPOLLRPALHUP) && rpal_recv(c, &m) != 0)
            break;
    }
    return answered;
}

/* One call; checks the answer came from the server with key and pid. */
static void call_ok(struct rpal_conn *c, uint64_t x, uint64_t key, pid_t pid)
{
    struct rpal_msg req = {.words = {x}}, rep;
    CHECK_OK(rpal_call(c, &req, &rep, 5000));
    CHECK(rep.words[0] == x * 2 + 1);
    CHECK(rep.words[1] == key);
    CHECK(rep.words[2] == (uint64_t)pid);
}

static void check_info(struct rpal_conn *c, pid_t pid, int slot, uint64_t key, const char *name)
{
    struct rpal_peer_info info;
    memset(&info, 0x5a, sizeof info);
    CHECK_OK(rpal_conn_info(c, &info));
    if (info.pid != pid || info.slot != slot || info.key != key) {
        fprintf(stderr, "pid %d: conn_info says pid %d slot %d key %016llx, want %d %d %016llx\n",
                (int)getpid(), info.pid, info.slot, (unsigned long long)info.key, (int)pid, slot,
                (unsigned long long)key);
        exit(TEST_FAIL);
    }
    CHECK(info.uid == getuid() && info.gid == getgid());
    CHECK(strcmp(info.name, name) == 0);
    struct rpal_options o;
    CHECK_OK(rpal_options_init(&o));
    CHECK(info.arena_base == o.window_base + (uint64_t)slot * o.slot_size);
    CHECK(info.arena_size >= (1u << 20));
}

/* ------------------------------------------------------- the first server */

struct peer {
    struct test_pipe to, from; /* parent -> child, child -> parent */
    pid_t pid;
};
static struct peer s_s1, s_s2, s_cl[NCLIENTS], s_mk;

/* Registers s_name, reports key, slot; checks the server end of the
 * parent's connection; serves until killed. */
static int first_server(void *arg)
{
    struct peer *p = arg;
    test_init();
    struct rpal_service *svc;
    uint64_t key = 0;
    CHECK_OK(rpal_register_service(s_name, &svc, &key));
    CHECK(key != 0);
    int ep = rpal_epoll_create(EPOLL_CLOEXEC);
    CHECK_OK(ep);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_service_fd(svc), &ev));
    put_u64(&p->from, key);
    put_u64(&p->from, (uint64_t)rpal_slot_id());
    struct rpal_conn *c = test_accept(svc, ep, 10000);
    int parent_slot = (int)get_u64(&p->to, 10000);
    check_info(c, getppid(), parent_slot, key, s_name);
    test_pipe_put(&p->from, 'i');
    serve(ep, c, key, 1 << 30, 30000); /* the parent kills us */
    return 1;
}

/* Fails to register s_name while the first server lives, takes it over once
 * it is dead, serves one call, unregisters, serves the same client on. */
static int second_server(void *arg)
{
    struct peer *p = arg;
    test_init();
    test_pipe_expect(&p->to, 'a', 10000);
    struct rpal_service *svc;
    uint64_t key = 0;
    CHECK_RC(rpal_register_service(s_name, &svc, &key), -EADDRINUSE);
    CHECK(key == 0); /* out-pointers are written only on success */
    test_pipe_put(&p->from, 'E');

    test_pipe_expect(&p->to, 'b', 10000); /* the first server is dead now */
    CHECK_OK(rpal_register_service(s_name, &svc, &key));
    CHECK(key != 0);
    int ep = rpal_epoll_create(EPOLL_CLOEXEC);
    CHECK_OK(ep);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_service_fd(svc), &ev));
    put_u64(&p->from, key);
    put_u64(&p->from, (uint64_t)rpal_slot_id());
    struct rpal_conn *c = test_accept(svc, ep, 10000);
    CHECK(serve(ep, c, key, 1, 10000) == 1);
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_DEL, rpal_service_fd(svc), NULL));
    CHECK_OK(rpal_unregister_service(svc));
    test_pipe_put(&p->from, 'U');
    CHECK(serve(ep, c, key, 1 << 30, 10000) == 10); /* until the parent hangs up */
    CHECK_OK(rpal_release_service(c));
    CHECK_OK(rpal_epoll_close(ep));
    CHECK_OK(rpal_exit());
    return 0;
}

/* ------------------------------------------------ three clients at once */

static int multi_client(void *arg)
{
    struct peer *p = arg;
    test_pipe_expect(&p->to, 'g', 10000);
    uint64_t key = get_u64(&p->to, 10000);
    test_init();
    struct rpal_conn *c = test_connect(s_multi, 5000);
    check_info(c, getppid(), (int)get_u64(&p->to, 10000), key, s_multi);
    for (uint64_t i = 0; i < CLIENT_CALLS; i++)
        call_ok(c, (uint64_t)getpid() * 100000 + i, key, getppid());
    CHECK_OK(rpal_release_service(c));
    CHECK_OK(rpal_exit());
    return 0;
}

/* The parent serves s_multi to three clients that connect at the same
 * time, each in the epoll set with the listening fd. */
static void test_multi(void)
{
    int ep;
    uint64_t key;
    struct rpal_service *svc;
    CHECK_OK(rpal_register_service(s_multi, &svc, &key));
    ep = rpal_epoll_create(EPOLL_CLOEXEC);
    CHECK_OK(ep);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_service_fd(svc), &lev));
    for (int i = 0; i < NCLIENTS; i++) {
        test_pipe_put(&s_cl[i].to, 'g');
        put_u64(&s_cl[i].to, key);
        put_u64(&s_cl[i].to, (uint64_t)rpal_slot_id());
    }
    struct rpal_conn *conns[NCLIENTS] = {0};
    int accepted = 0, done = 0;
    uint64_t answered = 0;
    int64_t deadline = test_now_ns() + 20000ll * 1000000;
    while (done < NCLIENTS) {
        CHECK(test_now_ns() < deadline);
        struct epoll_event ev[8];
        int n = rpal_epoll_wait(ep, ev, 8, 1000);
        CHECK(n >= 0);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.ptr == NULL) {
                struct rpal_conn *c;
                int rc;
                while ((rc = rpal_accept(svc, &c)) == 0) {
                    CHECK(accepted < NCLIENTS);
                    struct rpal_peer_info info;
                    CHECK_OK(rpal_conn_info(c, &info));
                    bool known = false;
                    for (int k = 0; k < NCLIENTS; k++)
                        known |= info.pid == s_cl[k].pid;
                    CHECK(known);
                    CHECK(info.key == key);
                    conns[accepted++] = c;
                    struct epoll_event cev = {.events = 0, .data.ptr = c};
                    CHECK_OK(rpal_epoll_ctl(ep, EPOLL_CTL_ADD, rpal_conn_fd(c), &cev));
                }
                CHECK_RC(rc, -EAGAIN);
                continue;
            }
            struct rpal_conn *c = ev[i].data.ptr;
            struct rpal_msg m;
            while (rpal_recv(c, &m) == 0) {
                struct rpal_msg r = {.words = {m.words[0] * 2 + 1, key, (uint64_t)getpid()}};
                CHECK_OK(rpal_reply(c, m.id, &r));
                answered++;
            }
            if (ev[i].events & EPOLLRPALHUP) {
                CHECK_OK(rpal_release_service(c)); /* also leaves the epoll set */
                for (int k = 0; k < NCLIENTS; k++)
                    if (conns[k] == c)
                        conns[k] = NULL;
                done++;
            }
        }
    }
    CHECK(accepted == NCLIENTS);
    CHECK(answered == (uint64_t)NCLIENTS * CLIENT_CALLS);
    for (int i = 0; i < NCLIENTS; i++)
        CHECK_CHILD(s_cl[i].pid, 10000);
    CHECK_OK(rpal_unregister_service(svc));
    CHECK_OK(rpal_epoll_close(ep));
}

/* -------------------------------------------------- missing runtime dir */

static int make_dir_child(void *arg)
{
    char dir[160];
    snprintf(dir, sizeof dir, "%s/fresh", s_tmp);
    struct stat st;
    CHECK(stat(dir, &st) < 0 && errno == ENOENT);
    umask(0); /* 0700 must come from the library, not from the umask */
    CHECK(setenv("RPAL_RUNTIME_DIR", dir, 1) == 0);
    test_init();
    const char *sub[] = {"", "/slots", "/services"};
    for (int i = 0; i < 3; i++) {
        char path[200];
        snprintf(path, sizeof path, "%s%s", dir, sub[i]);
        CHECK(stat(path, &st) == 0);
        CHECK(S_ISDIR(st.st_mode));
        if ((st.st_mode & 07777) != 0700) {
            fprintf(stderr, "%s has mode %o, want 700\n", path, st.st_mode & 07777);
            return 1;
        }
        CHECK(st.st_uid == geteuid());
    }
    struct rpal_service *svc;
    CHECK_OK(rpal_register_service("fresh", &svc, NULL));
    CHECK_OK(rpal_exit());
    return 0;
}

/* --------------------------------------------------------- name checks */

static void test_names(void)
{
    struct rpal_service *svc;
    struct rpal_conn *c;
    const char *bad[] = {"", ".hidden", ".", "..", "a/b", "../x", "sp ace", "tab\t", "n\xc3\xa9",
                         "semi;colon", "star*"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_RC(rpal_register_service(bad[i], &svc, NULL), -EINVAL);
        CHECK_RC(rpal_request_service(bad[i], &c), -EINVAL);
    }
    CHECK_RC(rpal_register_service(NULL, &svc, NULL), -EINVAL);
    CHECK_RC(rpal_request_service(NULL, &c), -EINVAL);
    CHECK_RC(rpal_register_service("ok", NULL, NULL), -EINVAL);
    CHECK_RC(rpal_request_service("ok", NULL), -EINVAL);

    char longest[RPAL_NAME_MAX + 2];
    memset(longest, 'n', sizeof longest);
    longest[RPAL_NAME_MAX + 1] = 0; /* 65 bytes */
    CHECK_RC(rpal_register_service(longest, &svc, NULL), -ENAMETOOLONG);
    CHECK_RC(rpal_request_service(longest, &c), -ENAMETOOLONG);
    longest[RPAL_NAME_MAX] = 0;     /* 64 bytes: fine */
    longest[0] = 'L';
    uint64_t key;
    CHECK_OK(rpal_register_service(longest, &svc, &key));
    CHECK(key != 0);
    /* the same name twice in one process */
    struct rpal_service *again = NULL;
    CHECK_RC(rpal_register_service(longest, &again, NULL), -EADDRINUSE);
    CHECK(again == NULL);
    char path[300];
    snprintf(path, sizeof path, "services/%s.sock", longest);
    CHECK(exists(path));
    CHECK_OK(rpal_unregister_service(svc));
    CHECK(!exists(path));
    CHECK_OK(rpal_register_service(longest, &svc, NULL)); /* free again */
    CHECK_OK(rpal_unregister_service(svc));

    /* nobody serves it */
    CHECK_RC(rpal_request_service("nobody-here", &c), -ENOENT);
    /* a socket file without a server behind it */
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int len = snprintf(sun.sun_path, sizeof sun.sun_path, "%.80s/services/ghost.sock", s_rt);
    CHECK(len > 0 && (size_t)len < sizeof sun.sun_path);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    CHECK(bind(fd, (struct sockaddr *)&sun, sizeof sun) == 0);
    CHECK(listen(fd, 1) == 0);
    close(fd);
    CHECK(exists("services/ghost.sock"));
    CHECK_RC(rpal_request_service("ghost", &c), -ENOENT);
    /* and a registration takes it over (no lock holder) */
    CHECK_OK(rpal_register_service("ghost", &svc, NULL));
    CHECK_OK(rpal_unregister_service(svc));
    CHECK_RC(rpal_unregister_service(NULL), -EINVAL);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(s_tmp, sizeof s_tmp, "%s/rpal-reg-XXXXXX",
             tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
    CHECK(mkdtemp(s_tmp) != NULL);
    snprintf(s_rt, sizeof s_rt, "%s/rt", s_tmp);
    CHECK(setenv("RPAL_RUNTIME_DIR", s_rt, 1) == 0);
    snprintf(s_name, sizeof s_name, "%s", test_service_name("reg"));
    snprintf(s_multi, sizeof s_multi, "%s", test_service_name("multi"));

    /* every child first */
    struct peer *all[] = {&s_s1, &s_s2, &s_cl[0], &s_cl[1], &s_cl[2]};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        test_pipe_open(&all[i]->to);
        test_pipe_open(&all[i]->from);
    }
    s_mk.pid = test_fork(make_dir_child, NULL);
    s_s1.pid = test_fork(first_server, &s_s1);
    s_s2.pid = test_fork(second_server, &s_s2);
    for (int i = 0; i < NCLIENTS; i++)
        s_cl[i].pid = test_fork(multi_client, &s_cl[i]);
    uint64_t key1 = get_u64(&s_s1.from, 10000);
    int slot1 = (int)get_u64(&s_s1.from, 10000);
    CHECK(key1 != 0);

    test_init();
    CHECK(rpal_slot_id() != slot1);

    /* the first server, seen from both ends */
    struct rpal_conn *c = test_connect(s_name, 5000);
    check_info(c, s_s1.pid, slot1, key1, s_name);
    put_u64(&s_s1.to, (uint64_t)rpal_slot_id());
    test_pipe_expect(&s_s1.from, 'i', 10000);
    for (uint64_t i = 0; i < 100; i++)
        call_ok(c, i, key1, s_s1.pid);

    /* a second process cannot take a live name */
    test_pipe_put(&s_s2.to, 'a');
    test_pipe_expect(&s_s2.from, 'E', 10000);
    call_ok(c, 1000, key1, s_s1.pid); /* and the first one still serves */

    /* the first server crashes: its entry and socket stay, the name is dead */
    CHECK(kill(s_s1.pid, SIGKILL) == 0);
    CHECK(test_wait(s_s1.pid, 10000) == 128 + SIGKILL);
    char rel[128];
    snprintf(rel, sizeof rel, "services/%s.sock", s_name);
    CHECK(exists(rel));
    snprintf(rel, sizeof rel, "services/%s.lock", s_name);
    CHECK(exists(rel));
    struct rpal_msg req = {.words = {1}}, rep;
    CHECK_RC(rpal_call(c, &req, &rep, 5000), -ECONNRESET);
    CHECK_OK(rpal_release_service(c));
    struct rpal_conn *c2;
    CHECK_RC(rpal_request_service(s_name, &c2), -ENOENT);

    /* a new process takes the stale entry over */
    test_pipe_put(&s_s2.to, 'b');
    uint64_t key2 = get_u64(&s_s2.from, 10000);
    int slot2 = (int)get_u64(&s_s2.from, 10000);
    CHECK(key2 != 0 && key2 != key1);
    c = test_connect(s_name, 5000);
    check_info(c, s_s2.pid, slot2, key2, s_name);
    call_ok(c, 7, key2, s_s2.pid);

    /* it unregisters: no new connections, the accepted one carries calls */
    test_pipe_expect(&s_s2.from, 'U', 10000);
    CHECK_RC(rpal_request_service(s_name, &c2), -ENOENT);
    snprintf(rel, sizeof rel, "services/%s.sock", s_name);
    CHECK(!exists(rel));
    for (uint64_t i = 0; i < 10; i++)
        call_ok(c, 100 + i, key2, s_s2.pid);
    CHECK_OK(rpal_release_service(c));
    CHECK_CHILD(s_s2.pid, 10000);

    test_multi();
    test_names();
    CHECK_CHILD(s_mk.pid, 10000);

    CHECK_OK(rpal_exit());
    nftw(s_tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    printf("registry: ok\n");
    return 0;
}
