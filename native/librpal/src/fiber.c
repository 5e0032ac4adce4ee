/* SPDX-License-Identifier: MIT */
/*
 * User-mode fibers: rpal_fiber_make() lays out the first frame of a new
 * fiber; the switch itself is rpal__fiber_swap in fiber_x86_64.S.
 *
 * Sanitizers. Switching stacks behind the back of ASan or TSan breaks them
 * (TSan keeps a shadow call stack per thread and dies or reports nonsense;
 * ASan misjudges stack bounds and fake stacks), so builds with
 * -fsanitize=address or -fsanitize=thread annotate every switch:
 * rpal_fiber_switch is then this file's C function, which tells the
 * sanitizer about the switch and calls rpal__fiber_swap. The annotations need
 * per-context state (a TSan fiber handle; ASan stack bounds and fake stack)
 * and struct rpal_fiber only holds sp, so:
 *  - a made fiber keeps its state in a small header at the top of its own
 *    stack, above the first frame;
 *  - a thread's own stack keeps its state in a thread-local;
 *  - every switch stores a pointer to the state of the context it leaves in
 *    the "context word" of the frame it saves, so the next switch into that
 *    context finds it at to->sp + FRAME_WORD before switching.
 * Plain builds carry none of this: rpal_fiber_switch is the assembly, and the
 * frame's context word is left unread.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpal.h"

#ifndef RPAL_API
#define RPAL_API __attribute__((visibility("default")))
#endif
#ifndef RPAL_HIDDEN
#define RPAL_HIDDEN __attribute__((visibility("hidden")))
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RPAL_FIBER_ANNOTATED 1 /* must match the test in fiber_x86_64.S */
#endif

#if !defined(__x86_64__)
#error "librpal fibers are implemented for x86-64 only (fiber_x86_64.S)"
#endif

/*
 * The frame rpal__fiber_swap saves at from->sp and restores from to->sp
 * (offsets in bytes from the saved sp; fiber_x86_64.S pushes rbp, rbx, r12,
 * r13, r14, r15 in that order, then reserves 16 bytes):
 *
 *   FRAME_MXCSR  +0   MXCSR (32 bits)            ldmxcsr
 *   FRAME_FPUCW  +4   x87 control word (16 bits) fldcw; +6..+7 padding
 *   FRAME_WORD   +8   context word (sanitizer state in annotated builds)
 *   FRAME_R15    +16  r15
 *   FRAME_R14    +24  r14
 *   FRAME_R13    +32  r13  = arg for a new fiber
 *   FRAME_R12    +40  r12  = fn for a new fiber
 *   FRAME_RBX    +48  rbx
 *   FRAME_RBP    +56  rbp  = 0 for a new fiber (ends frame-pointer walks)
 *   FRAME_RET    +64  return address = rpal__fiber_entry for a new fiber
 *   FRAME_SIZE   72   the sp the resumed context continues with is sp + 72
 *
 * A saved sp is 8 mod 16 (its owner's call pushed a return address onto a
 * 16-aligned stack), so for a new fiber sp = top - 72 with top 16-aligned:
 * the entry trampoline then runs with rsp = top, 16-aligned, and its
 * `call *%r12` enters fn exactly as the ABI requires.
 */
enum {
    FRAME_MXCSR = 0,
    FRAME_FPUCW = 4,
    FRAME_WORD = 8,
    FRAME_R15 = 16,
    FRAME_R14 = 24,
    FRAME_R13 = 32,
    FRAME_R12 = 40,
    FRAME_RBX = 48,
    FRAME_RBP = 56,
    FRAME_RET = 64,
    FRAME_SIZE = 72,
};

/* Defaults for a new fiber: all SSE exceptions masked, round to nearest, no
 * FTZ/DAZ; x87 all exceptions masked, 64-bit precision, round to nearest
 * (the values the ABI gives a new process). */
#define FIBER_MXCSR_DEFAULT 0x1F80u
#define FIBER_FPUCW_DEFAULT 0x037Fu

#define FIBER_MIN_STACK 4096u

/* fiber_x86_64.S */
RPAL_HIDDEN void rpal__fiber_swap(struct rpal_fiber *from, struct rpal_fiber *to, void *word);
RPAL_HIDDEN void rpal__fiber_entry(void);
/* Called by rpal__fiber_entry when fn returns; never returns. */
RPAL_HIDDEN __attribute__((noreturn, used)) void rpal__fiber_returned(rpal_fiber_fn fn);

RPAL_HIDDEN void rpal__fiber_returned(rpal_fiber_fn fn)
{
    union {
        rpal_fiber_fn fn;
        void *p;
    } u = {.fn = fn};
    fprintf(stderr,
            "librpal: fatal: fiber function %p returned; a fiber must end by "
            "switching away for the last time (rpal_fiber_switch), never by "
            "returning\n",
            u.p);
    fflush(stderr);
    abort();
}

static void frame_put64(unsigned char *frame, int off, uint64_t v)
{
    memcpy(frame + off, &v, sizeof v);
}

#ifdef RPAL_FIBER_ANNOTATED
/* ------------------------------------------------------ sanitizer builds */
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef __SANITIZE_THREAD__
#include <sanitizer/tsan_interface.h>
#endif

#define FIBER_SAN_MAGIC 0x72706C6669626572ull /* "rplfiber" */

/* Sanitizer state of one context. For a made fiber it lives at the top of
 * its stack (written by rpal_fiber_make on the making thread, then used by
 * whichever thread runs the fiber: a switch into it is the hand-over). For a
 * thread's own stack it lives in struct san_thread. */
struct san_ctx {
    uint64_t magic;          /* FIBER_SAN_MAGIC once initialised */
    struct san_ctx *self;    /* == this: tells a live header from stale bytes */
    void *tsan;              /* TSan fiber (or the thread's own context) */
    const void *stack_lo;    /* ASan: lowest address of the stack */
    size_t stack_size;       /* ASan: its size (0: not known yet) */
    void *fake_stack;        /* ASan: fake stack saved while switched out */
    rpal_fiber_fn fn;        /* made fiber: what to run */
    void *arg;
    int native;              /* 1: a thread's own stack */
};

/* Per thread: which context runs now and which one we just came from. */
struct san_thread {
    struct san_ctx native;   /* the thread's own stack */
    struct san_ctx *current; /* NULL until the first switch: &native */
    struct san_ctx *prev;    /* the context the last switch left */
};

static __thread struct san_thread t_san;

/* A fiber may be resumed on another thread than the one it left, and the
 * compiler may keep a thread-local's address in a register across the call
 * that switches: always fetch it anew after a switch, through a call the
 * optimiser cannot see through. */
static __attribute__((noinline)) struct san_thread *san_thread(void)
{
    struct san_thread *t = &t_san;
    __asm__ volatile("" : "+r"(t));
    return t;
}

static struct san_ctx *san_current(struct san_thread *t)
{
    if (!t->current) {
        struct san_ctx *n = &t->native;
        n->magic = FIBER_SAN_MAGIC;
        n->self = n;
        n->native = 1;
#ifdef __SANITIZE_THREAD__
        n->tsan = __tsan_get_current_fiber();
#endif
        t->current = n;
    }
    return t->current;
}

/* Runs first on the new stack after every switch. */
static void san_finish_switch(void *fake_stack)
{
#ifdef __SANITIZE_ADDRESS__
    const void *lo = NULL;
    size_t size = 0;
    __sanitizer_finish_switch_fiber(fake_stack, &lo, &size);
    /* ASan knows the bounds of a thread's own stack; we learn them here, the
     * first time that stack is left, and need them to switch back to it. */
    struct san_thread *t = san_thread();
    if (t->prev && t->prev->native && lo) {
        t->prev->stack_lo = lo;
        t->prev->stack_size = size;
    }
#else
    (void)fake_stack;
#endif
}

/* fn of every made fiber in annotated builds; arg is its san_ctx. */
static void san_fiber_start(void *arg)
{
    struct san_ctx *c = arg;
    san_finish_switch(NULL);
    rpal_fiber_fn fn = c->fn;
    fn(c->arg);
    rpal__fiber_returned(fn);
}

RPAL_API void rpal_fiber_switch(struct rpal_fiber *from, struct rpal_fiber *to)
{
    if (from == to)
        return; /* the assembly would save and restore the same context */
    struct san_thread *t = san_thread();
    struct san_ctx *self = san_current(t);
    struct san_ctx *next;
    memcpy(&next, (const unsigned char *)to->sp + FRAME_WORD, sizeof next);
    if (!next || next->magic != FIBER_SAN_MAGIC || next->self != next) {
        fprintf(stderr, "librpal: fatal: rpal_fiber_switch to %p: not a context saved by "
                        "rpal_fiber_switch or made by rpal_fiber_make\n", (void *)to);
        abort();
    }
    t->prev = self;
    t->current = next;
#ifdef __SANITIZE_ADDRESS__
    __sanitizer_start_switch_fiber(&self->fake_stack, next->stack_lo, next->stack_size);
#endif
#ifdef __SANITIZE_THREAD__
    /* Synchronising (flags 0): the fiber we resume sees everything done
     * before this switch, as it would on one thread. */
    __tsan_switch_to_fiber(next->tsan, 0);
#endif
    rpal__fiber_swap(from, to, self);
    /* Resumed, perhaps on another thread. */
    san_finish_switch(self->fake_stack);
}

/* Reserves the sanitizer header below top and returns it. The TSan fiber of
 * a header found intact at the same address (the stack is being reused for a
 * new fiber) is reused: struct rpal_fiber has no destroy call, so this is
 * what keeps a pool of reused stacks from using up TSan's thread slots. Each
 * distinct stack address still costs one TSan fiber for the life of the
 * process. */
static struct san_ctx *san_make(void *stack, size_t size, uintptr_t *top, rpal_fiber_fn fn,
                                void *arg)
{
#ifdef __SANITIZE_ADDRESS__
    /* Frames of a fiber that ended by switching away never returned, so
     * their redzones may still be poisoned. */
    __asan_unpoison_memory_region(stack, size);
#endif
    *top -= (sizeof(struct san_ctx) + 15) & ~(uintptr_t)15;
    struct san_ctx *c = (struct san_ctx *)*top;
    void *tsan = NULL;
    if (c->magic == FIBER_SAN_MAGIC && c->self == c && !c->native)
        tsan = c->tsan;
#ifdef __SANITIZE_THREAD__
    if (!tsan)
        tsan = __tsan_create_fiber(0);
#endif
    memset(c, 0, sizeof *c);
    c->magic = FIBER_SAN_MAGIC;
    c->self = c;
    c->tsan = tsan;
    c->stack_lo = stack;
    c->stack_size = size;
    c->fn = fn;
    c->arg = arg;
    return c;
}
#endif /* RPAL_FIBER_ANNOTATED */

RPAL_API int rpal_fiber_make(struct rpal_fiber *f, void *stack, size_t size, rpal_fiber_fn fn,
                             void *arg)
{
    if (!f || !stack || !fn || size < FIBER_MIN_STACK)
        return -EINVAL;
    uintptr_t lo = (uintptr_t)stack;
    if (size > UINTPTR_MAX - lo)
        return -EINVAL; /* wraps around the address space */
    uintptr_t top = (lo + size) & ~(uintptr_t)15;
    void *word = NULL;
#ifdef RPAL_FIBER_ANNOTATED
    struct san_ctx *c = san_make(stack, size, &top, fn, arg);
    word = c;
    fn = san_fiber_start;
    arg = c;
#endif
    unsigned char *frame = (unsigned char *)(top - FRAME_SIZE);
    memset(frame, 0, FRAME_SIZE); /* rbx, r14, r15, rbp and padding: 0 */
    uint32_t mxcsr = FIBER_MXCSR_DEFAULT;
    uint16_t fpucw = FIBER_FPUCW_DEFAULT;
    memcpy(frame + FRAME_MXCSR, &mxcsr, sizeof mxcsr);
    memcpy(frame + FRAME_FPUCW, &fpucw, sizeof fpucw);
    frame_put64(frame, FRAME_WORD, (uint64_t)(uintptr_t)word);
    frame_put64(frame, FRAME_R13, (uint64_t)(uintptr_t)arg);
    frame_put64(frame, FRAME_R12, (uint64_t)(uintptr_t)fn);
    frame_put64(frame, FRAME_RET, (uint64_t)(uintptr_t)rpal__fiber_entry);
    f->sp = frame;
    return 0;
}
