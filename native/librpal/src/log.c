/* SPDX-License-Identifier: MIT */
/* Log sink for refused peers and rejected input. One sink at a time: a plain
 * one (rpal_set_logger: level and text) or one with codes (rpal_set_log_sink:
 * a struct rpal_log_record), whichever was installed last. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

/* The installed sink. Written by the setters under s_set_lock (so that the
 * last setter wins: one of the two is set, or none), read by rpal_log without
 * a lock: a message logged while a setter runs may reach the former sink, or
 * both kinds may be set for that moment (the one with codes is then used). A
 * context is stored before its function, so that a sink sees its own context
 * (or a later one of the same setter). */
static pthread_mutex_t s_set_lock = PTHREAD_MUTEX_INITIALIZER;
static rpal_log_fn _Atomic s_fn;
static void *_Atomic s_ctx;
static rpal_log_sink_fn _Atomic s_sink;
static void *_Atomic s_sink_ctx;

RPAL_API void rpal_set_logger(rpal_log_fn fn, void *context)
{
    pthread_mutex_lock(&s_set_lock);
    atomic_store(&s_sink, NULL);
    atomic_store(&s_ctx, context);
    atomic_store(&s_fn, fn);
    pthread_mutex_unlock(&s_set_lock);
}

RPAL_API void rpal_set_log_sink(rpal_log_sink_fn fn, void *context)
{
    pthread_mutex_lock(&s_set_lock);
    atomic_store(&s_fn, NULL);
    atomic_store(&s_sink_ctx, context);
    atomic_store(&s_sink, fn);
    pthread_mutex_unlock(&s_set_lock);
}

void rpal_log(int level, enum rpal_log_code code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rpal_log_sink_fn sink = atomic_load(&s_sink);
    if (sink) {
        struct rpal_log_record r = {
            .size = sizeof r, .level = level, .code = (int32_t)code, .message = msg};
        sink(&r, atomic_load(&s_sink_ctx));
        return;
    }
    rpal_log_fn fn = atomic_load(&s_fn);
    if (fn) {
        fn(level, msg, atomic_load(&s_ctx));
        return;
    }
    static const char *const names[] = {"error", "warning", "info"};
    if (level <= LOG_WARN && getenv("RPAL_LOG"))
        fprintf(stderr, "rpal[%d] %s: %s\n", (int)g_rt.pid, names[level], msg);
}
