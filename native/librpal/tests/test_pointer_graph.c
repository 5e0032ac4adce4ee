/* SPDX-License-Identifier: MIT */
/*
 * One copy: process A builds a pointer graph (a binary tree with back
 * pointers and a string per node) in its own arena and sends only the root
 * pointer; process B walks it in place, through the same addresses, and
 * answers with a checksum it computed from the graph. B also checks that
 * the graph lies in A's arena, mapped read-only: writing to it faults.
 */
#include <setjmp.h>
#include <signal.h>

#include "test_util.h"

#define NODES 50000

struct node {
    uint64_t value;
    struct node *left, *right, *parent;
    const char *label;
};

static const char *s_name;
static struct test_pipe s_ready;
static struct rpal_conn *s_conn;

static void *arena_new(size_t n)
{
    void *p;
    CHECK_OK(rpal_alloc(n, &p));
    return p;
}

/* Builds a complete binary tree of `count` nodes, all in the arena. */
static struct node *build(uint64_t *expect)
{
    static struct node *all[NODES];
    for (int i = 0; i < NODES; i++) {
        struct node *n = arena_new(sizeof *n);
        char *label = arena_new(24);
        snprintf(label, 24, "node-%d", i);
        *n = (struct node){.value = (uint64_t)i * 2654435761u, .label = label};
        all[i] = n;
        if (i) {
            n->parent = all[(i - 1) / 2];
            if (i % 2)
                n->parent->left = n;
            else
                n->parent->right = n;
        }
        *expect += n->value ^ strlen(label);
    }
    return all[0];
}

/* Walks the graph without recursion; checks every pointer is in range. */
static uint64_t walk(const struct node *root, uint64_t lo, uint64_t hi, int *count)
{
    uint64_t sum = 0;
    const struct node *n = root, *prev = NULL;
    while (n) {
        CHECK((uint64_t)(uintptr_t)n >= lo && (uint64_t)(uintptr_t)n + sizeof *n <= hi);
        const struct node *next;
        if (prev == n->parent) { /* first visit */
            sum += n->value ^ strlen(n->label);
            (*count)++;
            next = n->left ? n->left : n->right ? n->right : n->parent;
        } else if (prev == n->left) {
            next = n->right ? n->right : n->parent;
        } else {
            next = n->parent;
        }
        prev = n;
        n = next;
    }
    return sum;
}

static sigjmp_buf s_jmp;
static void on_segv(int sig) { siglongjmp(s_jmp, 1); }

/* 1 when writing to p faults. */
static __attribute__((noinline)) int write_faults(volatile struct node *p)
{
    struct sigaction sa = {.sa_handler = on_segv}, old;
    sigaction(SIGSEGV, &sa, &old);
    int faulted = 0;
    if (sigsetjmp(s_jmp, 1) == 0)
        p->value = 0;
    else
        faulted = 1;
    sigaction(SIGSEGV, &old, NULL);
    return faulted;
}

static int client(void *arg)
{
    CHECK(test_pipe_get(&s_ready, 10000) == 'r');
    struct rpal_options o;
    CHECK_OK(rpal_options_init(&o));
    o.arena_size = 32u << 20;
    o.spin_ns = 20000;
    CHECK_OK(rpal_init(&o));
    s_conn = test_connect(s_name, 5000);
    uint64_t expect = 0;
    struct node *root = build(&expect);
    struct rpal_msg req = {.words = {(uint64_t)(uintptr_t)root, NODES}}, rep;
    CHECK_OK(rpal_call(s_conn, &req, &rep, 20000));
    CHECK(rep.words[0] == expect);
    CHECK(rep.words[1] == NODES);
    CHECK(rep.words[2] == 1); /* the server could not write our graph */
    CHECK_OK(rpal_release_service(s_conn));
    CHECK_OK(rpal_exit());
    return 0;
}

int main(void)
{
    s_name = test_service_name("graph");
    test_pipe_open(&s_ready);
    pid_t pid = test_fork(client, NULL);
    test_init();
    int ep;
    struct rpal_service *svc = test_serve(s_name, &ep);
    test_pipe_put(&s_ready, 'r');
    struct rpal_conn *c = test_accept(svc, ep, 10000);
    CHECK(test_wait_conn(ep, EPOLLRPALIN, 20000) & EPOLLRPALIN);
    struct rpal_msg m;
    CHECK_OK(rpal_recv(c, &m));
    struct rpal_peer_info info;
    CHECK_OK(rpal_conn_info(c, &info));
    const struct node *root = (const struct node *)(uintptr_t)m.words[0];
    int count = 0;
    uint64_t sum = walk(root, info.arena_base, info.arena_base + info.arena_size, &count);

    int faulted = write_faults((struct node *)root); /* read-only here */
    struct rpal_msg r = {.words = {sum, (uint64_t)count, (uint64_t)faulted}};
    CHECK_OK(rpal_reply(c, m.id, &r));
    CHECK_CHILD(pid, 30000);
    CHECK_OK(rpal_release_service(c));
    CHECK_OK(rpal_unregister_service(svc));
    CHECK_OK(rpal_epoll_close(ep));
    CHECK_OK(rpal_exit());
    printf("pointer graph: %d nodes walked in place\n", count);
    return 0;
}
