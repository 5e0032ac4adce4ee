/* SPDX-License-Identifier: MIT */
/* Log sink for refused peers and rejected input. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

static rpal_log_fn _Atomic s_fn;
static void *_Atomic s_ctx;

RPAL_API void rpal_set_logger(rpal_log_fn fn, void *context)
{
    atomic_store(&s_ctx, context);
    atomic_store(&s_fn, fn);
}

void rpal_log(int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rpal_log_fn fn = atomic_load(&s_fn);
    if (fn) {
        fn(level, msg, atomic_load(&s_ctx));
        return;
    }
    static const char *const names[] = {"error", "warning", "info"};
    if (level <= LOG_WARN && getenv("RPAL_LOG"))
        fprintf(stderr, "rpal[%d] %s: %s\n", (int)g_rt.pid, names[level], msg);
}
