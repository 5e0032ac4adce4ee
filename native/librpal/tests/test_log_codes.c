/* SPDX-License-Identifier: MIT */
/*
 * Log records carry the engine's code (rpal_set_log_sink):
 *  - rpal_init refusing a runtime directory open to others logs
 *    RPAL_LOG_RUNTIME_DIR, an error;
 *  - a client over a service's max_conns: the server logs RPAL_LOG_PEER_REFUSED
 *    (a warning), the client RPAL_LOG_REFUSED_BY_PEER (an error);
 *  - the plain sink (rpal_set_logger) still gets level and text, and replaces
 *    the sink with codes (and the other way round).
 */
#include <pthread.h>
#include <sys/stat.h>

#include "test_util.h"

#define MAX_RECORDS 64

/* What a sink saw: written by whichever thread logs, read after the work. */
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    int level, code;
    uint32_t size;
    char text[256];
} s_records[MAX_RECORDS];
static int s_count, s_plain_count;
static char s_plain_text[256];
static const int s_context = 42;

static void sink(const struct rpal_log_record *r, void *context)
{
    CHECK(context == &s_context);
    pthread_mutex_lock(&s_lock);
    if (s_count < MAX_RECORDS) {
        s_records[s_count].level = r->level;
        s_records[s_count].code = r->code;
        s_records[s_count].size = r->size;
        snprintf(s_records[s_count].text, sizeof s_records[s_count].text, "%s", r->message);
        s_count++;
    }
    pthread_mutex_unlock(&s_lock);
}

static void plain(int level, const char *message, void *context)
{
    (void)level;
    CHECK(context == &s_context);
    pthread_mutex_lock(&s_lock);
    s_plain_count++;
    snprintf(s_plain_text, sizeof s_plain_text, "%s", message);
    pthread_mutex_unlock(&s_lock);
}

static void forget(void)
{
    pthread_mutex_lock(&s_lock);
    s_count = s_plain_count = 0;
    pthread_mutex_unlock(&s_lock);
}

/* The first record with code, or NULL; its size and level are checked. */
static int find(int code, int level)
{
    pthread_mutex_lock(&s_lock);
    int found = -1;
    for (int i = 0; i < s_count && found < 0; i++)
        if (s_records[i].code == code)
            found = i;
    pthread_mutex_unlock(&s_lock);
    if (found < 0) {
        fprintf(stderr, "pid %d: no record with code %d among %d\n", (int)getpid(), code, s_count);
        for (int i = 0; i < s_count; i++)
            fprintf(stderr, "  %d %d %s\n", s_records[i].code, s_records[i].level, s_records[i].text);
        return -1;
    }
    CHECK(s_records[found].size == sizeof(struct rpal_log_record));
    CHECK(s_records[found].level == level);
    return found;
}

/* A runtime directory open to others: rpal_init fails and says why, coded. */
static void open_directory(void)
{
    char dir[] = "/tmp/rpal-log-codes-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK(chmod(dir, 0755) == 0);
    struct rpal_options o;
    CHECK_OK(rpal_options_init(&o));
    o.runtime_dir = dir;

    forget();
    rpal_set_log_sink(sink, (void *)&s_context);
    CHECK_RC(rpal_init(&o), -EPERM);
    int i = find(RPAL_LOG_RUNTIME_DIR, RPAL_LEVEL_ERROR);
    CHECK(i >= 0 && strstr(s_records[i].text, dir) != NULL);
    CHECK(s_plain_count == 0);

    /* the plain sink replaces the coded one, and gets the same text */
    forget();
    rpal_set_logger(plain, (void *)&s_context);
    CHECK_RC(rpal_init(&o), -EPERM);
    CHECK(s_count == 0 && s_plain_count >= 1 && strstr(s_plain_text, dir) != NULL);

    /* and the other way round; NULL restores the default (stderr) */
    forget();
    rpal_set_log_sink(sink, (void *)&s_context);
    CHECK_RC(rpal_init(&o), -EPERM);
    CHECK(s_plain_count == 0 && find(RPAL_LOG_RUNTIME_DIR, RPAL_LEVEL_ERROR) >= 0);
    forget();
    rpal_set_log_sink(NULL, NULL);
    CHECK_RC(rpal_init(&o), -EPERM);
    CHECK(s_count == 0 && s_plain_count == 0);
    CHECK(rmdir(dir) == 0);
}

static struct test_pipe s_go;
static const char *s_name;

/* Connects twice: the first is accepted, the second refused (max_conns 1). */
static int client(void *arg)
{
    (void)arg;
    test_pipe_expect(&s_go, 'g', 10000);
    test_init();
    rpal_set_log_sink(sink, (void *)&s_context);
    struct rpal_conn *first, *second;
    CHECK_OK(rpal_request_service(s_name, &first));
    CHECK_RC(rpal_request_service(s_name, &second), -EUSERS);
    int i = find(RPAL_LOG_REFUSED_BY_PEER, RPAL_LEVEL_ERROR);
    CHECK(i >= 0 && strstr(s_records[i].text, s_name) != NULL);
    CHECK_OK(rpal_release_service(first));
    CHECK_OK(rpal_exit());
    return 0;
}

int main(void)
{
    open_directory();

    test_pipe_open(&s_go);
    s_name = test_service_name("log-codes");
    pid_t pid = test_fork(client, NULL);

    test_init();
    rpal_set_log_sink(sink, (void *)&s_context);
    struct rpal_service *svc;
    struct rpal_service_params p = {.size = sizeof p, .max_conns = 1};
    CHECK_OK(rpal_register_service_params(s_name, &p, &svc, NULL));
    test_pipe_put(&s_go, 'g');

    int accepted = 0, refused = 0;
    struct rpal_conn *c = NULL;
    int64_t deadline = test_now_ns() + 10000000000ll;
    while (accepted + refused < 2) {
        CHECK(test_now_ns() < deadline);
        struct pollfd pfd = {.fd = rpal_service_fd(svc), .events = POLLIN};
        poll(&pfd, 1, 100);
        struct rpal_conn *got;
        int rc;
        while ((rc = rpal_accept(svc, &got)) != -EAGAIN) {
            if (rc == 0) {
                c = got;
                accepted++;
            } else {
                CHECK_RC(rc, -EUSERS);
                refused++;
            }
        }
    }
    CHECK(accepted == 1 && refused == 1);
    int i = find(RPAL_LOG_PEER_REFUSED, RPAL_LEVEL_WARNING);
    CHECK(i >= 0 && strstr(s_records[i].text, "refused") != NULL);

    CHECK_CHILD(pid, 10000);
    CHECK_OK(rpal_release_service(c));
    CHECK_OK(rpal_unregister_service(svc));
    CHECK_OK(rpal_exit());
    printf("pass\n");
    return TEST_PASS;
}
