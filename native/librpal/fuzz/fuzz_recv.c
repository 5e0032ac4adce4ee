/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the request side: rpal_recv() taking CALL/ONEWAY descriptors out of
 * a hostile peer's req ring (positions, kinds, ids, payload pointers), and
 * the FAIL it answers a bad call with. Invariants: every message it accepts
 * names bytes inside the peer's arena past its header, a call has a nonzero
 * id and a one-way message none, and it never takes more than the peer
 * published (entries whose lap says so); nothing crashes, nothing of our
 * arena leaks.
 */
#include "fuzz_peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_conn f = fz_conn(data, size);
    struct rpal_conn *c = f.c;
    /* published: the entries from our position on whose lap says so (the
     * lap is what publishes an entry; the tail only tells a lie apart) */
    uint32_t start = atomic_load(&c->self->req_in.reserve), published = 0;
    while (published < FUZZ_ENTRIES) {
        uint32_t pos = start + published;
        if (c->peer_req[pos % FUZZ_ENTRIES].lap != (uint16_t)(pos / FUZZ_ENTRIES + 1))
            break;
        published++;
    }
    uint32_t taken = 0;
    for (int i = 0; i < 2 * (int)FUZZ_ENTRIES + 2; i++) {
        struct rpal_msg m;
        memset(&m, 0xa5, sizeof m);
        int rc = rpal_recv(c, &m);
        if (rc < 0) {
            if (rc != -EAGAIN && rc != -EPROTO && rc != -ECONNRESET)
                FUZZ_FAIL("rpal_recv returned %d", rc);
            break;
        }
        taken++;
        fz_check_msg(&m, "rpal_recv");
        if (m.flags != 0)
            FUZZ_FAIL("rpal_recv: flags %#x", m.flags);
        if (taken > published || taken > FUZZ_ENTRIES)
            FUZZ_FAIL("rpal_recv took %u messages, the peer published %u", taken, published);
    }
    fz_teardown(&f);
    return 0;
}
