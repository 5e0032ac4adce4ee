/* SPDX-License-Identifier: MIT */
/*
 * Fibers: rpal_fiber_make / rpal_fiber_switch.
 *  - ping-pong: 1,000,000 round trips with callee-saved registers kept live
 *    on both sides while the other side trashes them;
 *  - receiver model: one thread schedules 64 handler fibers that each wait
 *    (yielding) for their turn in a scrambled order;
 *  - floating point: MXCSR and the x87 control word are per fiber, doubles
 *    survive switches;
 *  - argument errors and stack alignment;
 *  - a fiber left on one thread resumes on another;
 *  - stacks are mmap'd with a PROT_NONE guard page, and overflowing one
 *    faults instead of running into other memory.
 * Does not need rpal_init(). Needs -lm (fenv) and pthread. Under valgrind
 * the stacks are registered with it (VALGRIND_STACK_REGISTER), and the
 * overflow child's expected SIGSEGV report shows up in the log.
 */
#include <fenv.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <xmmintrin.h>

#include "test_util.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define HAVE_VALGRIND 1
#endif
#endif

/* ------------------------------------------------------------ stacks */

struct stack {
    void *map;      /* guard page + usable stack */
    size_t map_len;
    void *lo;       /* usable stack: [lo, lo + size) */
    size_t size;
    unsigned vg_id; /* valgrind's id for the registered stack */
};

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* size bytes of stack above one PROT_NONE guard page. */
static void stack_alloc(struct stack *s, size_t size)
{
    size_t pg = page_size();
    size = (size + pg - 1) & ~(pg - 1);
    s->map_len = size + pg;
    s->map = mmap(NULL, s->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                  -1, 0);
    CHECK(s->map != MAP_FAILED);
    CHECK(mprotect(s->map, pg, PROT_NONE) == 0);
    s->lo = (char *)s->map + pg;
    s->size = size;
    s->vg_id = 0;
#ifdef HAVE_VALGRIND
    /* Without this, memcheck takes a switch between stacks less than
     * --max-stackframe apart for a huge frame and loses track of what is
     * defined. */
    s->vg_id = VALGRIND_STACK_REGISTER(s->lo, (char *)s->lo + s->size);
#endif
}

static void stack_free(struct stack *s)
{
#ifdef HAVE_VALGRIND
    VALGRIND_STACK_DEREGISTER(s->vg_id);
#endif
    CHECK(munmap(s->map, s->map_len) == 0);
}

static int running_on_valgrind(void)
{
#ifdef HAVE_VALGRIND
    return RUNNING_ON_VALGRIND != 0;
#else
    return 0;
#endif
}

static pid_t gettid_(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* Overwrites the callee-saved registers the compiler lets us name (rbp may
 * be the frame pointer). A context that kept values in them across a switch
 * must get them back from the switch, not from luck. */
static inline void trash_callee_saved(void)
{
    __asm__ volatile("movq $0x5a5a5a5a5a5a5a5a, %%rbx\n\t"
                     "movq %%rbx, %%r12\n\t"
                     "movq %%rbx, %%r13\n\t"
                     "movq %%rbx, %%r14\n\t"
                     "movq %%rbx, %%r15\n\t"
                     :
                     :
                     : "rbx", "r12", "r13", "r14", "r15", "memory");
}

/* uint64_t switch_checked(struct rpal_fiber *from, struct rpal_fiber *to,
 *                         uint64_t seed);
 * Loads seed-derived values into all six callee-saved registers (rbp
 * included, which C cannot name), calls rpal_fiber_switch(from, to), and when
 * resumed returns a bitmask of the registers that did not come back
 * (bit 0 rbx, 1 rbp, 2 r12, 3 r13, 4 r14, 5 r15). */
uint64_t switch_checked(struct rpal_fiber *from, struct rpal_fiber *to, uint64_t seed);
__asm__(".text\n"
        ".p2align 4\n"
        ".globl switch_checked\n"
        ".hidden switch_checked\n"
        ".type switch_checked, @function\n"
        "switch_checked:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    subq $24, %rsp\n" /* 16-aligned at the call below; 0(%rsp) = seed */
        "    movq %rdx, (%rsp)\n"
        "    movq %rdx, %rbx\n    xorq $0x11, %rbx\n"
        "    movq %rdx, %rbp\n    xorq $0x22, %rbp\n"
        "    movq %rdx, %r12\n    xorq $0x33, %r12\n"
        "    movq %rdx, %r13\n    xorq $0x44, %r13\n"
        "    movq %rdx, %r14\n    xorq $0x55, %r14\n"
        "    movq %rdx, %r15\n    xorq $0x66, %r15\n"
        "    call rpal_fiber_switch@PLT\n"
        "    xorl %eax, %eax\n"
        "    movq (%rsp), %rcx\n    xorq $0x11, %rcx\n    cmpq %rcx, %rbx\n"
        "    je 1f\n    orl $1, %eax\n1:\n"
        "    movq (%rsp), %rcx\n    xorq $0x22, %rcx\n    cmpq %rcx, %rbp\n"
        "    je 1f\n    orl $2, %eax\n1:\n"
        "    movq (%rsp), %rcx\n    xorq $0x33, %rcx\n    cmpq %rcx, %r12\n"
        "    je 1f\n    orl $4, %eax\n1:\n"
        "    movq (%rsp), %rcx\n    xorq $0x44, %rcx\n    cmpq %rcx, %r13\n"
        "    je 1f\n    orl $8, %eax\n1:\n"
        "    movq (%rsp), %rcx\n    xorq $0x55, %rcx\n    cmpq %rcx, %r14\n"
        "    je 1f\n    orl $16, %eax\n1:\n"
        "    movq (%rsp), %rcx\n    xorq $0x66, %rcx\n    cmpq %rcx, %r15\n"
        "    je 1f\n    orl $32, %eax\n1:\n"
        "    addq $24, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".size switch_checked, . - switch_checked\n");

/* Hides a value from the optimiser so address arithmetic is not folded. */
static inline uintptr_t launder(uintptr_t v)
{
    __asm__ volatile("" : "+r"(v));
    return v;
}

/* ---------------------------------------------------- (a) ping-pong */

#define PINGPONG_ROUNDS 1000000u

struct pingpong {
    struct rpal_fiber main, fiber;
    volatile uint64_t counter; /* written by the fiber, read by main */
    uint64_t fiber_sum;        /* the fiber's result, written once at the end */
    uint64_t fiber_regs_lost;  /* switch_checked masks seen by the fiber */
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x9E3779B97F4A7C15ull;
    return x ^ (x >> 29);
}

static void pingpong_fiber(void *arg)
{
    struct pingpong *p = arg;
    volatile uint64_t sentinel = 0xF1BE4F1BE4ull;
    /* Live across every switch; at -O2 these sit in callee-saved registers. */
    uint64_t a = 1, b = 2, c = 3, d = 4, e = 5;
    for (uint64_t i = 0; i < PINGPONG_ROUNDS; i++) {
        p->counter = i + 1;
        a = mix(a + i);
        b += a ^ i;
        c = c * 3 + b;
        d ^= c + e;
        e += d >> 3;
        if (i & 1) {
            p->fiber_regs_lost |= switch_checked(&p->fiber, &p->main, mix(i) | 1);
        } else {
            rpal_fiber_switch(&p->fiber, &p->main);
            trash_callee_saved();
        }
    }
    p->fiber_sum = (sentinel == 0xF1BE4F1BE4ull) ? a + b + c + d + e : 0;
    rpal_fiber_switch(&p->fiber, &p->main);
    abort(); /* never resumed again */
}

static uint64_t pingpong_expected(void)
{
    uint64_t a = 1, b = 2, c = 3, d = 4, e = 5;
    for (uint64_t i = 0; i < PINGPONG_ROUNDS; i++) {
        a = mix(a + i);
        b += a ^ i;
        c = c * 3 + b;
        d ^= c + e;
        e += d >> 3;
    }
    return a + b + c + d + e;
}

static void test_pingpong(void)
{
    struct stack st;
    stack_alloc(&st, 64 * 1024);
    struct pingpong p = {0};
    CHECK_OK(rpal_fiber_make(&p.fiber, st.lo, st.size, pingpong_fiber, &p));

    volatile uint64_t sentinel = 0xC0FFEEull;
    uint64_t x = 7, y = 11, z = 13, w = 17, v = 19;
    for (uint64_t i = 0; i < PINGPONG_ROUNDS; i++) {
        x = mix(x ^ i);
        y += x;
        z ^= y * 5;
        w += z >> 7;
        v = v * 31 + w;
        if (i & 1) {
            uint64_t lost = switch_checked(&p.main, &p.fiber, ~mix(i));
            if (lost)
                fprintf(stderr, "round %llu: registers lost, mask %#llx\n",
                        (unsigned long long)i, (unsigned long long)lost);
            CHECK(lost == 0);
        } else {
            rpal_fiber_switch(&p.main, &p.fiber);
            trash_callee_saved();
        }
        if (p.counter != i + 1) {
            fprintf(stderr, "round %llu: counter %llu\n", (unsigned long long)i,
                    (unsigned long long)p.counter);
            CHECK(p.counter == i + 1);
        }
    }
    rpal_fiber_switch(&p.main, &p.fiber); /* the fiber's last turn */
    CHECK(sentinel == 0xC0FFEEull);

    uint64_t ex = 7, ey = 11, ez = 13, ew = 17, ev = 19;
    for (uint64_t i = 0; i < PINGPONG_ROUNDS; i++) {
        ex = mix(ex ^ i);
        ey += ex;
        ez ^= ey * 5;
        ew += ez >> 7;
        ev = ev * 31 + ew;
    }
    CHECK(x == ex && y == ey && z == ez && w == ew && v == ev);
    CHECK(p.fiber_sum == pingpong_expected());
    CHECK(p.fiber_regs_lost == 0);
    stack_free(&st);
}

/* ----------------------------------------------- (b) receiver model */

#define HANDLERS 64

struct sched;

struct handler {
    struct rpal_fiber fiber;
    struct stack stack;
    struct sched *s;
    int id;
    int turn;      /* finishes when s->next_turn == turn */
    int yields;    /* times it gave the thread back */
    int done;
    int wrong_thread;
};

struct sched {
    struct rpal_fiber self;
    struct handler h[HANDLERS];
    int next_turn;             /* the turn that may finish now */
    int finish_order[HANDLERS];
    int started;               /* handlers that have begun */
    int started_at_first_finish;
    pthread_t thread;
    pid_t tid;
};

static void handler_yield(struct handler *h)
{
    h->yields++;
    rpal_fiber_switch(&h->fiber, &h->s->self);
    if (!pthread_equal(pthread_self(), h->s->thread) || gettid_() != h->s->tid)
        h->wrong_thread = 1;
}

static void handler_main(void *arg)
{
    struct handler *h = arg;
    struct sched *s = h->s;
    pthread_t me = pthread_self();
    pid_t tid = gettid_();
    s->started++;
    /* An in-flight call: submitted, then wait for its reply, which comes
     * when every earlier turn has finished. */
    volatile int local_turn = h->turn;
    handler_yield(h);
    while (s->next_turn != local_turn)
        handler_yield(h);
    if (!pthread_equal(me, pthread_self()) || tid != gettid_())
        h->wrong_thread = 1;
    if (s->next_turn == 0)
        s->started_at_first_finish = s->started;
    s->finish_order[s->next_turn] = h->id;
    s->next_turn++;
    h->done = 1;
    rpal_fiber_switch(&h->fiber, &s->self); /* for the last time */
    abort();
}

static void *sched_thread(void *arg)
{
    struct sched *s = arg;
    s->thread = pthread_self();
    s->tid = gettid_();
    for (int i = 0; i < HANDLERS; i++) {
        struct handler *h = &s->h[i];
        stack_alloc(&h->stack, 32 * 1024);
        CHECK_OK(rpal_fiber_make(&h->fiber, h->stack.lo, h->stack.size, handler_main, h));
    }
    /* Round robin over the handlers not done, bounded: each pass finishes
     * at least the handler whose turn it is. */
    int left = HANDLERS;
    for (int pass = 0; left > 0 && pass <= HANDLERS + 1; pass++) {
        for (int i = 0; i < HANDLERS; i++) {
            if (s->h[i].done)
                continue;
            rpal_fiber_switch(&s->self, &s->h[i].fiber);
            if (s->h[i].done)
                left--;
        }
    }
    CHECK(left == 0);
    for (int i = 0; i < HANDLERS; i++)
        stack_free(&s->h[i].stack);
    return NULL;
}

static void test_receiver_model(void)
{
    static struct sched s;
    memset(&s, 0, sizeof s);
    /* A scrambled order of turns (Fisher-Yates with a fixed LCG). */
    int perm[HANDLERS];
    for (int i = 0; i < HANDLERS; i++)
        perm[i] = i;
    uint32_t r = 12345;
    for (int i = HANDLERS - 1; i > 0; i--) {
        r = r * 1103515245u + 12345u;
        int j = (int)((r >> 8) % (uint32_t)(i + 1));
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (int i = 0; i < HANDLERS; i++) {
        s.h[i].s = &s;
        s.h[i].id = i;
        s.h[i].turn = perm[i];
    }
    pthread_t th;
    CHECK(pthread_create(&th, NULL, sched_thread, &s) == 0);
    CHECK(pthread_join(th, NULL) == 0);

    CHECK(s.next_turn == HANDLERS);
    for (int i = 0; i < HANDLERS; i++) {
        struct handler *h = &s.h[i];
        CHECK(h->done);
        CHECK(!h->wrong_thread);
        CHECK(h->yields >= 1);
        /* finished exactly at its turn */
        CHECK(s.finish_order[h->turn] == h->id);
    }
    /* Interleaved: every handler was in flight before the first finished. */
    CHECK(s.started_at_first_finish == HANDLERS);
    /* Someone must have waited more than once, or the order was not
     * scrambled. */
    int max_yields = 0;
    for (int i = 0; i < HANDLERS; i++)
        if (s.h[i].yields > max_yields)
            max_yields = s.h[i].yields;
    CHECK(max_yields > 1);
}

/* --------------------------------------------- (c) floating point state */

struct fp {
    struct rpal_fiber main, fiber;
    int phase;
    unsigned initial_mxcsr;
    unsigned short initial_fpucw;
    int round_in_fiber;   /* fegetround() seen by the fiber after main ran */
    unsigned mxcsr_in_fiber;
    double fiber_result;
};

/* MXCSR without the sticky exception flags (bits 0-5), which arithmetic on
 * either side sets. */
#define MXCSR_CONTROL 0xFFC0u

static unsigned short get_fpucw(void)
{
    unsigned short cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return cw;
}

/* Division that runs under the current rounding mode: without
 * -frounding-math the compiler assumes round-to-nearest and may fold the
 * division or move it across fesetround(), so keep it out of line and its
 * operands and result in memory. */
static __attribute__((noinline)) double div_rt(double a, double b)
{
    volatile double va = a, vb = b;
    volatile double r = va / vb;
    return r;
}

static void fp_fiber(void *arg)
{
    struct fp *f = arg;
    f->initial_mxcsr = _mm_getcsr();
    f->initial_fpucw = get_fpucw();
    CHECK(fesetround(FE_UPWARD) == 0);
    /* FTZ and DAZ too: any MXCSR bit must stay with its fiber. (Valgrind
     * does not emulate FTZ/DAZ and drops them.) */
    if (!running_on_valgrind())
        _mm_setcsr(_mm_getcsr() | 0x8040u);
    double acc = 0.0;
    for (int i = 1; i <= 1000; i++) {
        acc += div_rt(1.0, (double)i); /* in xmm across the switch */
        f->phase = i;
        rpal_fiber_switch(&f->fiber, &f->main);
        trash_callee_saved();
    }
    f->round_in_fiber = fegetround();
    f->mxcsr_in_fiber = _mm_getcsr();
    f->fiber_result = acc;
    rpal_fiber_switch(&f->fiber, &f->main);
    abort();
}

static void test_fp_state(void)
{
    struct stack st;
    stack_alloc(&st, 64 * 1024);
    struct fp f = {0};
    unsigned main_mxcsr = _mm_getcsr();
    unsigned short main_cw = get_fpucw();
    CHECK(fegetround() == FE_TONEAREST);
    /* main runs toward zero; the new fiber must still start with the
     * defaults, not inherit this. */
    CHECK(fesetround(FE_TOWARDZERO) == 0);
    unsigned main_mxcsr_tz = _mm_getcsr();
    unsigned short main_cw_tz = get_fpucw();
    CHECK(rpal_fiber_make(&f.fiber, st.lo, st.size, fp_fiber, &f) == 0);

    double acc = 0.0;
    for (int i = 1; i <= 1000; i++) {
        acc += div_rt(1.0, (double)(i + 3)); /* in xmm across the switch */
        rpal_fiber_switch(&f.main, &f.fiber);
        trash_callee_saved();
        CHECK(f.phase == i);
        CHECK(fegetround() == FE_TOWARDZERO);
        CHECK((_mm_getcsr() & MXCSR_CONTROL) == (main_mxcsr_tz & MXCSR_CONTROL));
        CHECK(get_fpucw() == main_cw_tz);
    }
    rpal_fiber_switch(&f.main, &f.fiber);

    CHECK(f.initial_mxcsr == 0x1F80u);
    CHECK(f.initial_fpucw == 0x037Fu);
    CHECK(f.round_in_fiber == FE_UPWARD);
    if (!running_on_valgrind())
        CHECK((f.mxcsr_in_fiber & 0x8040u) == 0x8040u);
    CHECK((f.mxcsr_in_fiber & 0x6000u) == 0x4000u); /* RC = up */

    /* Recompute both sums without switching, under each side's mode. */
    double want_main = 0.0;
    for (int i = 1; i <= 1000; i++)
        want_main += div_rt(1.0, (double)(i + 3));
    CHECK(acc == want_main);

    CHECK(fesetround(FE_UPWARD) == 0);
    double want_fiber = 0.0;
    for (int i = 1; i <= 1000; i++)
        want_fiber += div_rt(1.0, (double)i);
    CHECK(f.fiber_result == want_fiber);
    /* and the modes really differ in effect (not under valgrind, whose
     * SSE division ignores the rounding mode) */
    double up = div_rt(1.0, 3.0);
    CHECK(fesetround(FE_TOWARDZERO) == 0);
    if (!running_on_valgrind())
        CHECK(div_rt(1.0, 3.0) < up);

    CHECK(fesetround(FE_TONEAREST) == 0);
    CHECK((_mm_getcsr() & MXCSR_CONTROL) == (main_mxcsr & MXCSR_CONTROL));
    CHECK(get_fpucw() == main_cw);
    stack_free(&st);
}

/* ------------------------------------- (d) arguments and alignment */

static void never_runs(void *arg)
{
    abort();
}

struct align_probe {
    struct rpal_fiber main, fiber;
    uintptr_t local_addr;
    uintptr_t frame_addr;
};

static void align_fiber(void *arg)
{
    struct align_probe *p = arg;
    _Alignas(16) volatile unsigned char buf[16];
    buf[0] = 1;
    p->local_addr = launder((uintptr_t)buf);
    /* At entry rsp + 8 must be 16-aligned; the CFA (rsp before the call
     * pushed the return address) is therefore 16-aligned. */
    p->frame_addr = launder((uintptr_t)__builtin_frame_address(0));
    rpal_fiber_switch(&p->fiber, &p->main);
    abort();
}

static void test_args_and_alignment(void)
{
    struct stack st;
    stack_alloc(&st, 16 * 1024);
    struct rpal_fiber f;
    int x;
    CHECK_RC(rpal_fiber_make(NULL, st.lo, st.size, never_runs, &x), -EINVAL);
    CHECK_RC(rpal_fiber_make(&f, NULL, st.size, never_runs, &x), -EINVAL);
    CHECK_RC(rpal_fiber_make(&f, st.lo, 0, never_runs, &x), -EINVAL);
    CHECK_RC(rpal_fiber_make(&f, st.lo, 4095, never_runs, &x), -EINVAL);
    CHECK_RC(rpal_fiber_make(&f, st.lo, st.size, NULL, &x), -EINVAL);
    CHECK_RC(rpal_fiber_make(&f, (void *)(UINTPTR_MAX - 8191), 8192, never_runs, &x), -EINVAL);
    CHECK_RC(rpal_fiber_make(&f, st.lo, st.size, never_runs, NULL), 0); /* arg may be NULL */

    /* Misaligned stack bounds, and the minimum size: fn still gets an ABI
     * aligned stack inside the given range. */
    const size_t sizes[] = {4096, 4097, 5003, 8191};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        for (size_t mis = 0; mis < 16; mis += 3) {
            struct align_probe p = {0};
            unsigned char *lo = (unsigned char *)st.lo + mis;
            CHECK_OK(rpal_fiber_make(&p.fiber, lo, sizes[k], align_fiber, &p));
            CHECK((uintptr_t)p.fiber.sp > (uintptr_t)lo);
            CHECK((uintptr_t)p.fiber.sp < (uintptr_t)lo + sizes[k]);
            rpal_fiber_switch(&p.main, &p.fiber);
            CHECK(p.local_addr % 16 == 0);
            CHECK(p.frame_addr > (uintptr_t)lo && p.frame_addr < (uintptr_t)lo + sizes[k]);
        }
    }
    stack_free(&st);
}

/* ------------------------------------- a fiber moves between threads */

/* Not part of the receiver model (handlers resume on their own thread), but
 * the contract switches no thread state, so a fiber left on one thread can be
 * resumed on another and then sees that thread's thread-locals. */
struct migrate {
    struct rpal_fiber fiber;
    struct rpal_fiber *host;  /* the context of the thread that resumed it */
    pid_t tid_seen[2];
    pthread_t self_seen[2];
};

static __attribute__((noinline)) void migrate_record(struct migrate *m, int k)
{
    m->tid_seen[k] = gettid_();
    m->self_seen[k] = pthread_self();
}

static void migrate_fiber(void *arg)
{
    struct migrate *m = arg;
    for (int k = 0; k < 2; k++) {
        migrate_record(m, k);
        rpal_fiber_switch(&m->fiber, m->host);
    }
    abort();
}

struct migrate_host {
    struct migrate *m;
    pid_t tid;
    pthread_t self;
};

static void *migrate_thread(void *arg)
{
    struct migrate_host *h = arg;
    struct rpal_fiber me;
    h->tid = gettid_();
    h->self = pthread_self();
    h->m->host = &me;
    rpal_fiber_switch(&me, &h->m->fiber);
    return NULL;
}

static void test_migration(void)
{
    struct stack st;
    stack_alloc(&st, 64 * 1024);
    struct migrate m = {0};
    CHECK_OK(rpal_fiber_make(&m.fiber, st.lo, st.size, migrate_fiber, &m));
    struct migrate_host h[2];
    for (int k = 0; k < 2; k++) {
        h[k].m = &m;
        pthread_t th;
        CHECK(pthread_create(&th, NULL, migrate_thread, &h[k]) == 0);
        CHECK(pthread_join(th, NULL) == 0);
    }
    for (int k = 0; k < 2; k++) {
        CHECK(m.tid_seen[k] == h[k].tid);
        CHECK(pthread_equal(m.self_seen[k], h[k].self));
    }
    CHECK(h[0].tid != h[1].tid);
    stack_free(&st);
}

/* -------------------------------------------------- (e) guard page */

struct overflow {
    struct rpal_fiber main, fiber;
};

static volatile unsigned recurse_limit = ~0u; /* never reached */

static __attribute__((noinline)) unsigned recurse(unsigned depth)
{
    if (depth == recurse_limit)
        return 0;
    volatile unsigned char buf[512];
    buf[0] = (unsigned char)depth;
    buf[511] = (unsigned char)depth;
    unsigned r = recurse(depth + 1);
    return r + buf[0] + buf[511];
}

static void overflow_fiber(void *arg)
{
    recurse(0);
    abort(); /* unreachable */
}

static int overflow_child(void *arg)
{
    struct stack st;
    stack_alloc(&st, 16 * 1024);
    struct overflow o;
    CHECK_OK(rpal_fiber_make(&o.fiber, st.lo, st.size, overflow_fiber, NULL));
    rpal_fiber_switch(&o.main, &o.fiber);
    return 3; /* the fiber came back: the guard did not stop it */
}

/* Runs child in a forked process with its stderr captured; returns its
 * status as test_wait() does and its stderr in report. */
static int run_captured(int (*child)(void *), char *report, size_t report_size)
{
    FILE *log = tmpfile();
    CHECK(log != NULL);
    fflush(stderr);
    int saved_err = dup(2);
    CHECK(saved_err >= 0);
    CHECK(dup2(fileno(log), 2) == 2);
    pid_t pid = test_fork(child, NULL);
    CHECK(dup2(saved_err, 2) == 2);
    close(saved_err);
    int rc = test_wait(pid, 60000);
    rewind(log);
    size_t n = fread(report, 1, report_size - 1, log);
    report[n] = 0;
    fclose(log);
    return rc;
}

static void returning_fiber(void *arg)
{
    /* breaks the contract: returns */
}

static int returning_child(void *arg)
{
    struct stack st;
    stack_alloc(&st, 16 * 1024);
    struct rpal_fiber main_ctx, f;
    CHECK_OK(rpal_fiber_make(&f, st.lo, st.size, returning_fiber, NULL));
    rpal_fiber_switch(&main_ctx, &f);
    return 3; /* nothing switches back here */
}

/* A fiber function that returns is reported and aborts the process. */
static void test_fn_returns(void)
{
    char report[4096];
    int rc = run_captured(returning_child, report, sizeof report);
    int ok = rc == 128 + SIGABRT && strstr(report, "fiber function") != NULL;
    if (!ok)
        fprintf(stderr, "returning child: status %d; its stderr:\n%s\n", rc, report);
    CHECK(ok);
}

static void test_guard_page(void)
{
    /* Overflowing a fiber's stack hits the guard page. A plain build dies
     * with SIGSEGV; ASan and TSan catch the fault, report a stack-overflow
     * and exit non-zero. The child's stderr goes to a file, so that an
     * expected sanitizer report does not read like a failure in the log. */
    char report[4096];
    int rc = run_captured(overflow_child, report, sizeof report);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    int ok = rc > 0 && rc != 3 && strstr(report, "stack-overflow") != NULL;
#else
    int ok = rc == 128 + SIGSEGV;
#endif
    if (!ok)
        fprintf(stderr, "overflow child: status %d; its stderr:\n%s\n", rc, report);
    CHECK(ok);
}

int main(void)
{
    test_args_and_alignment();
    printf("ok: arguments and alignment\n");
    test_pingpong();
    printf("ok: ping-pong %u round trips\n", PINGPONG_ROUNDS);
    test_receiver_model();
    printf("ok: receiver model, %d handlers\n", HANDLERS);
    test_fp_state();
    printf("ok: floating point state\n");
    test_migration();
    printf("ok: a fiber moves between threads\n");
    test_fn_returns();
    printf("ok: a returning fiber function aborts\n");
    test_guard_page();
    printf("ok: guard page\n");
    return TEST_PASS;
}
