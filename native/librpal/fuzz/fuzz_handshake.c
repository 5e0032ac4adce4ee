/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the handshake parsers: handshake_parse() (what recvmsg() returned:
 * the HELLO/WELCOME/REFUSE bytes, the length, the truncation flags, the
 * SCM_RIGHTS fds) and handshake_validate() (the announced layout: slot
 * window, ring size, arena size, connection block offset, service name)
 * against a fixed local layout.
 *
 * Input layout: byte 0: fds carried (% 4), byte 1: bit 0 MSG_TRUNC, bit 1
 * MSG_CTRUNC, bit 2 split the fds over two control messages, bit 3 put a
 * non-SCM_RIGHTS control message first; the rest: the message bytes as
 * received (longer than a message: truncated, as SOCK_SEQPACKET does). The
 * fds are real (dups of /dev/null) so that "closed" can be checked; the
 * control data is well formed, as the kernel writes it.
 *
 * Invariants: on success a HELLO/WELCOME returns exactly one of the fds that
 * came and closes the others, a REFUSE and every failure close them all; a
 * message that validates describes a connection block inside an arena inside
 * one slot of our window, a power-of-two ring size and a terminated name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#define FAIL(...)                                                                          \
    do {                                                                                   \
        fprintf(stderr, "fuzz invariant: " __VA_ARGS__);                                   \
        fputc('\n', stderr);                                                               \
        abort();                                                                           \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fd_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* our layout: rpal_options_init()'s defaults, slot 0 */
    g_rt.opt.window_base = 0x100000000000ull;
    g_rt.opt.slot_size = 1ull << 30;
    g_rt.opt.slot_count = 256;
    g_rt.opt.ring_entries = 256;
    g_rt.opt.arena_size = 64ull << 20;
    g_rt.slot = 0;

    if (size < 2)
        return 0;
    int nfds = data[0] % 4;
    uint8_t how = data[1];
    data += 2;
    size -= 2;

    struct rpal_hs_msg m;
    memset(&m, 0xa5, sizeof m);
    size_t n = size < sizeof m ? size : sizeof m;
    memcpy(&m, data, n);

    int fds[3];
    for (int i = 0; i < nfds; i++)
        if ((fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
            FAIL("open /dev/null: %s", strerror(errno));

    /* control data as recvmsg() leaves it */
    union {
        char buf[3 * CMSG_SPACE(3 * sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf};
    size_t used = 0;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    if (how & 8) {
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_CREDENTIALS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * 3);
        used += CMSG_SPACE(sizeof(int) * 3);
        mh.msg_controllen = used;
        cm = (struct cmsghdr *)(u.buf + used);
    }
    int split = (how & 4) && nfds > 1 ? 1 : nfds;
    for (int at = 0; at < nfds;) {
        int k = at == 0 ? split : nfds - at;
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN((size_t)k * sizeof(int));
        memcpy(CMSG_DATA(cm), fds + at, (size_t)k * sizeof(int));
        used += CMSG_SPACE((size_t)k * sizeof(int));
        cm = (struct cmsghdr *)(u.buf + used);
        at += k;
    }
    mh.msg_controllen = used;
    if (used == 0)
        mh.msg_control = NULL;
    mh.msg_flags = ((how & 1) || size > sizeof m ? MSG_TRUNC : 0) | ((how & 2) ? MSG_CTRUNC : 0);

    int arena = -2;
    int rc = handshake_parse(&mh, (ssize_t)n, &m, &arena);

    int kept = 0;
    for (int i = 0; i < nfds; i++) {
        if (!fd_open(fds[i]))
            continue;
        if (fds[i] != arena)
            FAIL("fd %d (of %d) neither returned nor closed", i, nfds);
        kept++;
    }
    bool wants_fd = rc == 0 && m.type != RPAL_HS_REFUSE;
    if (wants_fd ? (kept != 1 || nfds != 1) : (kept != 0 || arena != -1))
        FAIL("rc %d type %u: %d fds came, %d kept, arena %d", rc, m.type, nfds, kept, arena);
    if (rc != 0 && rc != -EPROTO && rc != -ECONNREFUSED)
        FAIL("handshake_parse returned %d", rc);
    if (arena >= 0)
        close(arena);
    if (rc < 0)
        return 0;
    if (m.magic != RPAL_MAGIC || m.protocol != RPAL_PROTOCOL || n != sizeof m)
        FAIL("accepted a message with magic %#x protocol %u length %zu", m.magic, m.protocol, n);

    if (handshake_validate(&m) < 0)
        return 0;
    if (m.window_base != g_rt.opt.window_base || m.slot_size != g_rt.opt.slot_size ||
        m.slot_count != g_rt.opt.slot_count)
        FAIL("accepted another window");
    if (m.slot < 0 || (uint32_t)m.slot >= g_rt.opt.slot_count || m.slot == g_rt.slot)
        FAIL("accepted slot %d", m.slot);
    if (m.ring_entries == 0 || (m.ring_entries & (m.ring_entries - 1)))
        FAIL("accepted ring size %u", m.ring_entries);
    if (m.arena_size > m.slot_size || m.arena_size < RPAL_MIN_ARENA)
        FAIL("accepted arena size %llu", (unsigned long long)m.arena_size);
    /* the block conn_attach_peer() will read must lie inside the arena, past its header */
    unsigned __int128 end = (unsigned __int128)m.conn_off + conn_shm_size(m.ring_entries);
    if (m.conn_off < RPAL_ARENA_HEADER || end > m.arena_size || m.conn_off % RPAL_CACHELINE)
        FAIL("accepted a connection block at %llu (+%zu) in an arena of %llu",
             (unsigned long long)m.conn_off, conn_shm_size(m.ring_entries),
             (unsigned long long)m.arena_size);
    if (!memchr(m.name, 0, sizeof m.name))
        FAIL("accepted an unterminated name");
    return 0;
}
