/* SPDX-License-Identifier: MIT */
/*
 * rpal-layout: prints the layout of every struct that rpal.h shares with
 * other languages, and the constants they need, one line each:
 *
 *   STRUCT.FIELD OFFSET SIZE
 *   STRUCT sizeof SIZE
 *   const NAME VALUE
 *
 * test/Rpal.Runtime.Tests (StructLayoutTests) compares every line with the
 * C# mirror in src/Rpal.Runtime/Interop, so the two definitions cannot drift.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <rpal.h>

#define FIELD(type, name, field)                                                            \
    printf("%s.%s %zu %zu\n", name, #field, offsetof(type, field), sizeof(((type *)0)->field))
#define SIZE(type, name) printf("%s sizeof %zu\n", name, sizeof(type))
#define CONST(name) printf("const %s %lld\n", #name, (long long)(name))

int main(void)
{
    SIZE(struct rpal_options, "rpal_options");
    FIELD(struct rpal_options, "rpal_options", size);
    FIELD(struct rpal_options, "rpal_options", ring_entries);
    FIELD(struct rpal_options, "rpal_options", arena_size);
    FIELD(struct rpal_options, "rpal_options", slot_size);
    FIELD(struct rpal_options, "rpal_options", window_base);
    FIELD(struct rpal_options, "rpal_options", slot_count);
    FIELD(struct rpal_options, "rpal_options", max_calls);
    FIELD(struct rpal_options, "rpal_options", spin_ns);
    FIELD(struct rpal_options, "rpal_options", runtime_dir);

    SIZE(struct rpal_msg, "rpal_msg");
    FIELD(struct rpal_msg, "rpal_msg", words);
    FIELD(struct rpal_msg, "rpal_msg", data);
    FIELD(struct rpal_msg, "rpal_msg", len);
    FIELD(struct rpal_msg, "rpal_msg", id);
    FIELD(struct rpal_msg, "rpal_msg", status);
    FIELD(struct rpal_msg, "rpal_msg", flags);

    SIZE(struct rpal_completion, "rpal_completion");
    FIELD(struct rpal_completion, "rpal_completion", user_data);
    FIELD(struct rpal_completion, "rpal_completion", res);
    FIELD(struct rpal_completion, "rpal_completion", reserved);
    FIELD(struct rpal_completion, "rpal_completion", reply);

    SIZE(struct rpal_peer_info, "rpal_peer_info");
    FIELD(struct rpal_peer_info, "rpal_peer_info", pid);
    FIELD(struct rpal_peer_info, "rpal_peer_info", uid);
    FIELD(struct rpal_peer_info, "rpal_peer_info", gid);
    FIELD(struct rpal_peer_info, "rpal_peer_info", slot);
    FIELD(struct rpal_peer_info, "rpal_peer_info", key);
    FIELD(struct rpal_peer_info, "rpal_peer_info", arena_base);
    FIELD(struct rpal_peer_info, "rpal_peer_info", arena_size);
    FIELD(struct rpal_peer_info, "rpal_peer_info", name);

    SIZE(struct rpal_conn_stats, "rpal_conn_stats");
    FIELD(struct rpal_conn_stats, "rpal_conn_stats", sent);
    FIELD(struct rpal_conn_stats, "rpal_conn_stats", received);
    FIELD(struct rpal_conn_stats, "rpal_conn_stats", rejected);
    FIELD(struct rpal_conn_stats, "rpal_conn_stats", spins);
    FIELD(struct rpal_conn_stats, "rpal_conn_stats", parks);
    FIELD(struct rpal_conn_stats, "rpal_conn_stats", wakeups);
    FIELD(struct rpal_conn_stats, "rpal_conn_stats", lent_bytes);
    FIELD(struct rpal_conn_stats, "rpal_conn_stats", ring_entries);
    FIELD(struct rpal_conn_stats, "rpal_conn_stats", req_out_queued);
    FIELD(struct rpal_conn_stats, "rpal_conn_stats", ctl_out_queued);
    FIELD(struct rpal_conn_stats, "rpal_conn_stats", ctl_out_backlog);
    FIELD(struct rpal_conn_stats, "rpal_conn_stats", req_in_queued);
    FIELD(struct rpal_conn_stats, "rpal_conn_stats", ctl_in_queued);

    SIZE(struct rpal_fiber, "rpal_fiber");
    FIELD(struct rpal_fiber, "rpal_fiber", sp);

    SIZE(struct epoll_event, "epoll_event");
    FIELD(struct epoll_event, "epoll_event", events);
    FIELD(struct epoll_event, "epoll_event", data);

    SIZE(struct rpal_log_record, "rpal_log_record");
    FIELD(struct rpal_log_record, "rpal_log_record", size);
    FIELD(struct rpal_log_record, "rpal_log_record", level);
    FIELD(struct rpal_log_record, "rpal_log_record", code);
    FIELD(struct rpal_log_record, "rpal_log_record", reserved);
    FIELD(struct rpal_log_record, "rpal_log_record", message);

    SIZE(struct rpal_service_entry, "rpal_service_entry");
    FIELD(struct rpal_service_entry, "rpal_service_entry", size);
    FIELD(struct rpal_service_entry, "rpal_service_entry", flags);
    FIELD(struct rpal_service_entry, "rpal_service_entry", pid);
    FIELD(struct rpal_service_entry, "rpal_service_entry", slot);
    FIELD(struct rpal_service_entry, "rpal_service_entry", key);
    FIELD(struct rpal_service_entry, "rpal_service_entry", connections);
    FIELD(struct rpal_service_entry, "rpal_service_entry", reserved);
    FIELD(struct rpal_service_entry, "rpal_service_entry", name);

    CONST(RPAL_LEVEL_ERROR);
    CONST(RPAL_LEVEL_WARNING);
    CONST(RPAL_LEVEL_INFO);
    CONST(RPAL_LOG_OTHER);
    CONST(RPAL_LOG_RUNTIME_DIR);
    CONST(RPAL_LOG_WINDOW);
    CONST(RPAL_LOG_REGISTRY);
    CONST(RPAL_LOG_REGISTRY_REPAIRED);
    CONST(RPAL_LOG_LIMIT);
    CONST(RPAL_LOG_PEER_REFUSED);
    CONST(RPAL_LOG_REFUSED_BY_PEER);
    CONST(RPAL_LOG_HANDSHAKE_ABORTED);
    CONST(RPAL_LOG_HANDSHAKE_INVALID);
    CONST(RPAL_LOG_PROTOCOL_VIOLATION);
    CONST(RPAL_LOG_CONN_ENDED);
    CONST(RPAL_LOG_SLOT_REUSED);
    CONST(RPAL_LOG_WAKE_FAILED);
    CONST(RPAL_SERVICE_LIVE);

    CONST(RPAL_VERSION_MAJOR);
    CONST(RPAL_VERSION_MINOR);
    CONST(RPAL_INLINE_WORDS);
    CONST(RPAL_NAME_MAX);
    CONST(EPOLLRPALIN);
    CONST(EPOLLRPALREPLY);
    CONST(EPOLLRPALHUP);
    CONST(EPOLLRPALOUT);
    CONST(RPAL_MSG_DONTWAIT);
    CONST(EPOLLIN);
    CONST(EPOLLOUT);
    CONST(EPOLLERR);
    CONST(EPOLLHUP);
    CONST(EPOLL_CTL_ADD);
    CONST(EPOLL_CTL_DEL);
    CONST(EPOLL_CTL_MOD);
    CONST(EPOLL_CLOEXEC);
    CONST(EFD_CLOEXEC);
    CONST(EFD_NONBLOCK);

    /* the errno values the engine's contract names */
    CONST(EPERM);
    CONST(ENOENT);
    CONST(ESRCH);
    CONST(EINTR);
    CONST(EIO);
    CONST(EBADF);
    CONST(EAGAIN);
    CONST(ENOMEM);
    CONST(EACCES);
    CONST(EBUSY);
    CONST(EEXIST);
    CONST(ENOTDIR);
    CONST(EINVAL);
    CONST(ENFILE);
    CONST(EMFILE);
    CONST(ENOSPC);
    CONST(EPIPE);
    CONST(ENAMETOOLONG);
    CONST(EPROTO);
    CONST(EBADFD);
    CONST(EUSERS);
    CONST(EADDRINUSE);
    CONST(ECONNRESET);
    CONST(ENOBUFS);
    CONST(ENOTCONN);
    CONST(ETIMEDOUT);
    CONST(ECONNREFUSED);
    CONST(EALREADY);
    return 0;
}
