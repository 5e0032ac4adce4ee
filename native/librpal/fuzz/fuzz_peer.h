/* SPDX-License-Identifier: MIT */
/*
 * Shared by fuzz_recv.c and fuzz_ctl.c: a fake connection whose peer half
 * (the peer's rpal_conn_shm and its two rings, in a fake peer arena) is
 * written from the fuzz input, the way a hostile peer would write its own
 * arena. No socket, no mapping, no second process: the engine's sources are
 * linked in directly (CMake RPAL_FUZZ), the backend is replaced by stubs.
 *
 * Input layout (little-endian, short input reads as zeros):
 *   struct fuzz_head  positions and flags of the peer's block
 *   then up to 2 * FUZZ_ENTRIES descriptors: the peer's req ring, then its
 *   ctl ring. A descriptor's ptr is taken relative to the arena it names
 *   (the peer's for CALL/ONEWAY/REPLY/FAIL, ours for RELEASE), wrapping, so
 *   every absolute value is still reachable.
 */
#ifndef RPAL_FUZZ_PEER_H
#define RPAL_FUZZ_PEER_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define FUZZ_ENTRIES 16u
#define FUZZ_CALLS 8u
#define FUZZ_LENT 4u
#define FUZZ_OWN_SIZE (1u << 20)
#define FUZZ_PEER_SIZE (64u << 10)
#define FUZZ_CONN_OFF RPAL_ARENA_HEADER

struct fuzz_head {
    uint32_t start;          /* our consumed position of both peer rings (wraps) */
    uint8_t req_count;       /* peer req_out.tail = start + req_count */
    uint8_t ctl_count;       /* peer ctl_out.tail = start + ctl_count */
    uint8_t flags;           /* bit 0: peer closed; bit 1: incarnation changed */
    uint8_t lent;            /* buffers we lent to this connection (% FUZZ_LENT+1) */
    uint32_t peer_ctl_in;    /* peer's consumption of our ctl ring (its ctl_in.tail) */
    uint8_t call_state[FUZZ_CALLS]; /* our call slots: % 4 -> FREE, SYNC, ASYNC, ABANDONED */
    uint8_t call_gen[FUZZ_CALLS];
};

/* An invariant broke: abort, which libFuzzer reports as a crash with the input. */
#define FUZZ_FAIL(...)                                                                     \
    do {                                                                                   \
        fprintf(stderr, "fuzz invariant: " __VA_ARGS__);                                   \
        fputc('\n', stderr);                                                               \
        abort();                                                                           \
    } while (0)

static void fz_wake_receiver(struct rpal_conn *c) { (void)c; }
static void fz_wake_word(const _Atomic uint32_t *w) { (void)w; }
static int fz_wait_word(const _Atomic uint32_t *w, uint32_t seen, int64_t ns)
{
    (void)w, (void)seen, (void)ns;
    return 0;
}
static void fz_slot(struct rpal_runtime *rt, int slot, uint64_t size) { (void)rt, (void)slot, (void)size; }
static const struct rpal_backend fz_backend = {
    .name = "fuzz",
    .retire_peer = fz_slot,
    .unmap_peer = fz_slot,
    .wake_receiver = fz_wake_receiver,
    .wake_word = fz_wake_word,
    .wait_word = fz_wait_word,
};

static char *fz_peer; /* the fake peer arena */

static inline void fz_setup_once(void)
{
    if (fz_peer)
        return;
    g_rt.arena = aligned_alloc(4096, FUZZ_OWN_SIZE);
    fz_peer = aligned_alloc(4096, FUZZ_PEER_SIZE);
    g_rt.peers = calloc(2, sizeof *g_rt.peers);
    if (!g_rt.arena || !fz_peer || !g_rt.peers || arena_setup(g_rt.arena, FUZZ_OWN_SIZE) < 0)
        FUZZ_FAIL("setup failed");
    g_rt.opt.ring_entries = FUZZ_ENTRIES;
    g_rt.opt.max_calls = FUZZ_CALLS;
    g_rt.opt.slot_count = 2;
    g_backend = &fz_backend;
}

struct fuzz_conn {
    struct rpal_conn *c;
    struct rpal_buf *lent[FUZZ_LENT];
    uint32_t nlent;
};

/* Builds the connection and the peer's block from the input. */
static inline struct fuzz_conn fz_conn(const uint8_t *data, size_t size)
{
    fz_setup_once();
    struct fuzz_head h = {0};
    memcpy(&h, data, size < sizeof h ? size : sizeof h);
    data += size < sizeof h ? size : sizeof h;
    size -= size < sizeof h ? size : sizeof h;

    struct fuzz_conn f = {0};
    struct rpal_conn *c = NULL;
    if (conn_new(false, &c) < 0)
        FUZZ_FAIL("conn_new failed");
    f.c = c;
    snprintf(c->name, sizeof c->name, "fuzz");

    memset(fz_peer, 0, FUZZ_PEER_SIZE);
    struct rpal_conn_shm *p = (struct rpal_conn_shm *)(fz_peer + FUZZ_CONN_OFF);
    p->magic = RPAL_MAGIC;
    p->ring_entries = FUZZ_ENTRIES;
    p->incarnation = 0x1234;
    c->peer_slot = 1;
    c->peer_base = (uintptr_t)fz_peer;
    c->peer_size = FUZZ_PEER_SIZE;
    c->peer_entries = FUZZ_ENTRIES;
    c->peer = p;
    c->peer_req = (const struct rpal_desc *)((const char *)p + sizeof *p);
    c->peer_ctl = c->peer_req + FUZZ_ENTRIES;
    c->peer_incarnation = (h.flags & 2) ? 0x4321 : 0x1234;
    atomic_store(&p->closed, h.flags & 1);
    atomic_store(&p->req_out.tail, h.start + h.req_count);
    atomic_store(&p->ctl_out.tail, h.start + h.ctl_count);
    atomic_store(&p->ctl_in.tail, h.peer_ctl_in);
    atomic_store(&c->self->req_in.reserve, h.start);
    atomic_store(&c->self->req_in.tail, h.start);
    atomic_store(&c->self->ctl_in.reserve, h.start);
    atomic_store(&c->self->ctl_in.tail, h.start);

    /* buffers we lent on this connection (a RELEASE may name them) */
    f.nlent = h.lent % (FUZZ_LENT + 1);
    for (uint32_t i = 0; i < f.nlent; i++) {
        f.lent[i] = arena_alloc_block(64u << i);
        if (!f.lent[i] || conn_lend(c, f.lent[i]) != 0)
            FUZZ_FAIL("lend failed");
    }

    /* our calls: every slot taken, in the state the input says */
    atomic_store(&c->free_top, 0);
    for (uint32_t i = 0; i < FUZZ_CALLS; i++) {
        static const uint32_t states[] = {CALL_FREE, CALL_SYNC, CALL_ASYNC, CALL_ABANDONED};
        atomic_store(&c->calls[i].state, states[h.call_state[i] % 4]);
        atomic_store(&c->calls[i].gen, h.call_gen[i]);
    }

    /* the peer's rings: req[FUZZ_ENTRIES] then ctl[FUZZ_ENTRIES] */
    struct rpal_desc *ring = (struct rpal_desc *)((char *)p + sizeof *p);
    for (uint32_t i = 0; i < 2 * FUZZ_ENTRIES && size > 0; i++) {
        struct rpal_desc d = {0};
        memcpy(&d, data, size < sizeof d ? size : sizeof d);
        data += size < sizeof d ? size : sizeof d;
        size -= size < sizeof d ? size : sizeof d;
        d.ptr += d.kind == RPAL_DESC_RELEASE ? (uint64_t)(uintptr_t)g_rt.arena
                                             : (uint64_t)(uintptr_t)fz_peer;
        ring[i] = d;
    }
    /* the positions the tails say are published carry their lap, as ring.c
     * writes it (the input's lap stays on the others: a lap that matches
     * without the tail is a shape of its own) */
    for (uint32_t k = 0; k < h.req_count && k < FUZZ_ENTRIES; k++) {
        uint32_t pos = h.start + k;
        ring[pos % FUZZ_ENTRIES].lap = (uint16_t)(pos / FUZZ_ENTRIES + 1);
    }
    for (uint32_t k = 0; k < h.ctl_count && k < FUZZ_ENTRIES; k++) {
        uint32_t pos = h.start + k;
        ring[FUZZ_ENTRIES + pos % FUZZ_ENTRIES].lap = (uint16_t)(pos / FUZZ_ENTRIES + 1);
    }
    return f;
}

/* A message the engine handed out must lie in the peer's arena, past its header. */
static inline void fz_check_msg(const struct rpal_msg *m, const char *what)
{
    if (!m->data) {
        if (m->len != 0)
            FUZZ_FAIL("%s: no data but len %llu", what, (unsigned long long)m->len);
        return;
    }
    uintptr_t lo = (uintptr_t)fz_peer + RPAL_ARENA_HEADER;
    uintptr_t hi = (uintptr_t)fz_peer + FUZZ_PEER_SIZE;
    uintptr_t d = (uintptr_t)m->data;
    if (m->len == 0 || d < lo || d >= hi || m->len > hi - d)
        FUZZ_FAIL("%s: payload %#lx+%llu outside the peer arena [%#lx, %#lx)", what,
                  (unsigned long)d, (unsigned long long)m->len, (unsigned long)lo,
                  (unsigned long)hi);
}

/* Ends the connection the way rpal_release_service() does, then checks that
 * every block of our arena came back (nothing leaked, nothing freed twice). */
static inline void fz_teardown(struct fuzz_conn *f)
{
    conn_fail(f->c, -ECONNRESET);
    conn_destroy(f->c);
    struct rpal_buf *all = arena_alloc_block(FUZZ_OWN_SIZE / 2 - sizeof(struct rpal_buf));
    if (!all)
        FUZZ_FAIL("our arena lost blocks: the top half cannot be allocated");
    arena_free_block(all);
}

#endif
