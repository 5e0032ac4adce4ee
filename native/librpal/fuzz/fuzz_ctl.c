/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the control side: drain_ctl() taking REPLY/FAIL/RELEASE
 * descriptors out of a hostile peer's ctl ring and matching them to our call
 * slots (id = generation << 32 | index + 1, in whatever state the input puts
 * each slot) and to the buffers we lent it. Invariants: a completed call's
 * reply names bytes inside the peer's arena (or nothing) and its result is 0
 * or a negative errno; only a RELEASE of a buffer we lent on this
 * connection frees it; nothing crashes, nothing of our arena leaks or is
 * freed twice.
 */
#include "fuzz_peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_conn f = fz_conn(data, size);
    struct rpal_conn *c = f.c;
    uint32_t before[FUZZ_CALLS];
    for (uint32_t i = 0; i < FUZZ_CALLS; i++)
        before[i] = atomic_load(&c->calls[i].state);

    drain_ctl(c);

    for (uint32_t i = 0; i < FUZZ_CALLS; i++) {
        const struct rpal_call_slot *s = &c->calls[i];
        uint32_t st = atomic_load(&s->state);
        if (st == before[i])
            continue;
        if (before[i] == CALL_FREE)
            FUZZ_FAIL("slot %u was free and became %u", i, st);
        if (st == CALL_DONE || st == CALL_QUEUED) {
            if (s->res > 0 || s->res <= -4096)
                FUZZ_FAIL("slot %u completed with %d", i, s->res);
            if (s->res == 0)
                fz_check_msg(&s->reply, "reply");
        }
    }
    /* the lent list holds exactly the lent buffers not released */
    uint32_t left = 0;
    for (uint64_t off = c->lent_head; off; off = ((struct rpal_buf *)(g_rt.arena + off))->next) {
        struct rpal_buf *b = (struct rpal_buf *)(g_rt.arena + off);
        if (arena_buf_of(buf_payload(b), BUF_LENT) != b || b->conn_serial != c->serial)
            FUZZ_FAIL("lent list holds a block that is not lent to this connection");
        if (++left > f.nlent)
            FUZZ_FAIL("lent list longer than what was lent");
    }
    fz_teardown(&f);
    return 0;
}
