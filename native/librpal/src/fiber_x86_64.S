/* SPDX-License-Identifier: MIT */
/*
 * User-mode fiber switch for x86-64 (System V ABI), GNU assembler, AT&T.
 *
 * The saved frame that rpal__fiber_swap leaves at from->sp, and that
 * rpal_fiber_make() in fiber.c builds by hand for a new fiber, is (offsets
 * from the saved sp; keep in step with the FRAME_* constants in fiber.c):
 *
 *   +0   MXCSR               (4 bytes, stmxcsr)
 *   +4   x87 control word    (2 bytes, fnstcw)
 *   +6   padding             (2 bytes)
 *   +8   context word        (rdx at the switch; see below)
 *   +16  r15
 *   +24  r14
 *   +32  r13
 *   +40  r12
 *   +48  rbx
 *   +56  rbp
 *   +64  return address      (ret pops it)
 *   +72  = sp after the switch has resumed the context
 *
 * The saved sp is 8 mod 16 (the caller's call left the stack 16-aligned), so
 * sp + 72 is 16-aligned: that is what makes the entry trampoline's call to
 * fn ABI-aligned.
 *
 * The context word: rpal__fiber_swap(from, to, word) stores its third
 * argument in the frame it saves; nothing here reads it back. In sanitizer
 * builds fiber.c keeps a pointer to the sanitizer state of the context there
 * (the public struct only has room for sp). In plain builds
 * rpal_fiber_switch is the same code, called with two arguments, and the slot
 * holds whatever rdx held: nobody reads it.
 *
 * Shadow stacks (CET SHSTK): switching by `ret` onto another stack is not
 * shadow-stack safe, so this file deliberately does not emit the
 * .note.gnu.property that <cet.h> would add; the linker then does not mark
 * the library SHSTK/IBT compatible. ENDBR64 is still placed at the entries
 * so that IBT-only builds work if the marking is ever forced.
 */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* fiber.c defines rpal_fiber_switch in C around rpal__fiber_swap. */
#define RPAL_FIBER_ANNOTATED 1
#endif

#ifdef __CET__
#define RPAL_ENDBR endbr64
#else
#define RPAL_ENDBR
#endif

    .text

/* void rpal__fiber_swap(struct rpal_fiber *from, struct rpal_fiber *to,
 *                       void *word);
 * void rpal_fiber_switch(struct rpal_fiber *from, struct rpal_fiber *to);  */
    .p2align 4
    .globl  rpal__fiber_swap
    .hidden rpal__fiber_swap
    .type   rpal__fiber_swap, @function
#ifndef RPAL_FIBER_ANNOTATED
    .globl  rpal_fiber_switch
    .type   rpal_fiber_switch, @function
rpal_fiber_switch:
#endif
rpal__fiber_swap:
    .cfi_startproc
    RPAL_ENDBR
    pushq   %rbp
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %rbp, 0
    pushq   %rbx
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %rbx, 0
    pushq   %r12
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r12, 0
    pushq   %r13
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r13, 0
    pushq   %r14
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r14, 0
    pushq   %r15
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r15, 0
    subq    $16, %rsp
    .cfi_adjust_cfa_offset 16
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movq    %rdx, 8(%rsp)

    movq    %rsp, (%rdi)            /* from->sp = rsp */
    movq    (%rsi), %rsp            /* rsp = to->sp */
    /* Now on the other context's stack. Its frame has the same layout, so the
     * CFI above still describes it correctly. */

    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq    $16, %rsp
    .cfi_adjust_cfa_offset -16
    popq    %r15
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r15
    popq    %r14
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r14
    popq    %r13
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r13
    popq    %r12
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r12
    popq    %rbx
    .cfi_adjust_cfa_offset -8
    .cfi_restore %rbx
    popq    %rbp
    .cfi_adjust_cfa_offset -8
    .cfi_restore %rbp
    ret
    .cfi_endproc
    .size   rpal__fiber_swap, . - rpal__fiber_swap
#ifndef RPAL_FIBER_ANNOTATED
    .size   rpal_fiber_switch, . - rpal_fiber_switch
#endif

/* First code a new fiber runs: the first switch into it "returns" here (so
 * this is reached by ret, never by an indirect jump or call) with
 *   r12 = fn, r13 = arg, rbp = 0, rsp 16-aligned (see the layout above).
 * It calls fn(arg). fn must not return; if it does, rpal__fiber_returned(fn)
 * (fiber.c) reports it and aborts. */
    .p2align 4
    .globl  rpal__fiber_entry
    .hidden rpal__fiber_entry
    .type   rpal__fiber_entry, @function
rpal__fiber_entry:
    .cfi_startproc
    /* Outermost frame of the fiber: tell unwinders (gdb, libgcc, sanitizer
     * stack traces) that there is no caller to walk to. */
    .cfi_undefined %rip
    RPAL_ENDBR
    movq    %r13, %rdi
    call    *%r12
    movq    %r12, %rdi
    call    rpal__fiber_returned
    ud2
    .cfi_endproc
    .size   rpal__fiber_entry, . - rpal__fiber_entry

    .hidden rpal__fiber_returned

    .section .note.GNU-stack,"",@progbits
