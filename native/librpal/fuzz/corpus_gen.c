/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpus of the fuzz targets (fuzz/corpus/<target>/) from
 * the real structures of src/internal.h, so that the seeds follow the
 * protocol when it changes:
 *     fuzz_corpus_gen native/librpal/fuzz/corpus
 * Built with RPAL_FUZZ (CMake target fuzz_corpus_gen); not run by the tests.
 */
#include <sys/stat.h>

#include "fuzz_peer.h"

static const char *s_root;

static void put(const char *target, const char *name, const void *a, size_t na, const void *b,
                size_t nb)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", s_root, target);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", s_root, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(a, 1, na, f) != na || (nb && fwrite(b, 1, nb, f) != nb) || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static struct rpal_desc desc(uint32_t kind, uint64_t id, uint64_t off, uint64_t len)
{
    struct rpal_desc d = {.kind = kind, .id = id, .ptr = off, .len = len};
    for (int i = 0; i < RPAL_INLINE_WORDS; i++)
        d.words[i] = 0x1000 + (uint64_t)i;
    return d;
}

/* The offsets in our arena of the payloads fz_conn() lends: the allocator is
 * deterministic from an empty arena, so ask it. */
static uint64_t lent_payload_off(uint32_t i)
{
    uint8_t in[sizeof(struct fuzz_head)] = {0};
    ((struct fuzz_head *)in)->lent = FUZZ_LENT;
    struct fuzz_conn f = fz_conn(in, sizeof in);
    uint64_t off = (uint64_t)((char *)buf_payload(f.lent[i]) - g_rt.arena);
    fz_teardown(&f);
    return off;
}

static void rings(void)
{
    struct fuzz_head h = {0};
    struct rpal_desc d[2 * FUZZ_ENTRIES] = {{0}};

    /* req ring: one one-way message with a payload */
    h.req_count = 1;
    d[0] = desc(RPAL_DESC_ONEWAY, 0, RPAL_ARENA_HEADER + 4096, 100);
    put("recv", "oneway", &h, sizeof h, d, sizeof d[0]);
    /* a call with inline words only, a call with a payload, a bad kind */
    h.req_count = 3;
    d[0] = desc(RPAL_DESC_CALL, 7, 0, 0);
    d[1] = desc(RPAL_DESC_CALL, 8, RPAL_ARENA_HEADER + 8192, 512);
    d[2] = desc(9, 0, 0, 0);
    put("recv", "calls", &h, sizeof h, d, 3 * sizeof d[0]);
    /* a call pointing past the arena (answered with FAIL), then a good one */
    h.req_count = 2;
    d[0] = desc(RPAL_DESC_CALL, 9, FUZZ_PEER_SIZE - 16, 64);
    d[1] = desc(RPAL_DESC_ONEWAY, 0, FUZZ_PEER_SIZE - 64, 64);
    put("recv", "outside", &h, sizeof h, d, 2 * sizeof d[0]);
    /* positions wrapping past 2^32 */
    h.start = 0xfffffffeu;
    h.req_count = 4;
    for (int i = 0; i < 4; i++)
        d[(0xfffffffeu + (uint32_t)i) % FUZZ_ENTRIES] = desc(RPAL_DESC_ONEWAY, 0, 0, 0);
    put("recv", "wrap", &h, sizeof h, d, FUZZ_ENTRIES * sizeof d[0]);

    /* ctl ring: replies and a failure to calls in each state, releases */
    memset(&h, 0, sizeof h);
    memset(d, 0, sizeof d);
    h.lent = 2;
    for (uint32_t i = 0; i < FUZZ_CALLS; i++) {
        h.call_state[i] = (uint8_t)(1 + i % 3); /* SYNC, ASYNC, ABANDONED */
        h.call_gen[i] = (uint8_t)(i + 1);
    }
    struct rpal_desc *ctl = d + FUZZ_ENTRIES;
    ctl[0] = desc(RPAL_DESC_REPLY, (1ull << 32) | 1, RPAL_ARENA_HEADER, 256);
    ctl[1] = desc(RPAL_DESC_REPLY, (2ull << 32) | 2, 0, 0);
    ctl[2] = desc(RPAL_DESC_REPLY, (3ull << 32) | 3, RPAL_ARENA_HEADER + 1024, 64);
    ctl[3] = desc(RPAL_DESC_FAIL, (4ull << 32) | 4, 0, 0);
    ctl[3].status = -EPROTO;
    ctl[4] = desc(RPAL_DESC_RELEASE, 0, lent_payload_off(0), 64);
    ctl[5] = desc(RPAL_DESC_RELEASE, 0, lent_payload_off(1), 128);
    ctl[6] = desc(RPAL_DESC_REPLY, (9ull << 32) | 5, 0, 0); /* wrong generation */
    ctl[7] = desc(RPAL_DESC_RELEASE, 0, lent_payload_off(0), 64); /* twice */
    h.ctl_count = 8;
    put("ctl", "mixed", &h, sizeof h, d, 2 * FUZZ_ENTRIES * sizeof d[0]);
    h.ctl_count = 1;
    put("ctl", "reply", &h, sizeof h, d, (FUZZ_ENTRIES + 1) * sizeof d[0]);
    /* a full ring whose peer lies about our ctl ring (refused replies need room) */
    for (uint32_t i = 0; i < FUZZ_ENTRIES; i++)
        ctl[i] = desc(RPAL_DESC_REPLY, 0xdead, RPAL_ARENA_HEADER, 64);
    h.ctl_count = FUZZ_ENTRIES;
    h.peer_ctl_in = 0x80000000u;
    put("ctl", "refused", &h, sizeof h, d, 2 * FUZZ_ENTRIES * sizeof d[0]);
}

static void handshake(void)
{
    struct rpal_hs_msg m = {0};
    m.magic = RPAL_MAGIC;
    m.protocol = RPAL_PROTOCOL;
    m.type = RPAL_HS_HELLO;
    m.slot = 3;
    m.window_base = 0x400000000000ull;
    m.slot_size = 1ull << 30;
    m.slot_count = 256;
    m.ring_entries = 256;
    m.arena_size = 64ull << 20;
    m.conn_off = 64ull << 10;
    m.incarnation = 0x0123456789abcdefull;
    snprintf(m.name, sizeof m.name, "echo");
    uint8_t one_fd[2] = {1, 0}, no_fd[2] = {0, 0}, two_fds[2] = {2, 4};
    put("handshake", "hello", one_fd, 2, &m, sizeof m);
    put("handshake", "hello-2fds", two_fds, 2, &m, sizeof m);
    m.type = RPAL_HS_WELCOME;
    m.key = 42;
    m.conn_off = (64ull << 20) - conn_shm_size(256); /* the last block that fits */
    put("handshake", "welcome", one_fd, 2, &m, sizeof m);
    memset(&m, 0, sizeof m);
    m.magic = RPAL_MAGIC;
    m.protocol = RPAL_PROTOCOL;
    m.type = RPAL_HS_REFUSE;
    m.status = -EACCES;
    put("handshake", "refuse", no_fd, 2, &m, sizeof m);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
        return 2;
    }
    s_root = argv[1];
    mkdir(s_root, 0755);
    rings();
    handshake();
    return 0;
}
