using System.Runtime.InteropServices;

namespace Rpal.Runtime.Interop;

/// <summary>
/// Every function of native/librpal/include/rpal.h, one to one. Each returns 0 (or a
/// non-negative value) or a negative errno; errno itself is not used, so no SetLastError.
/// Pointers to structs are passed as pointers: the callers pin (or stack-allocate) them, and the
/// blittable mirrors below are checked against the C header by StructLayoutTests.
/// </summary>
internal static unsafe partial class NativeMethods
{
    /// <summary>librpal.so, next to Rpal.Runtime.dll (copied there by Native.targets).</summary>
    internal const string Library = "rpal";

    internal const int VersionMajor = 1;
    internal const int VersionMinor = 2;
    internal const int NameMax = 64;

    internal const int EpollCtlAdd = 1;
    internal const int EpollCtlDel = 2;
    internal const int EpollCtlMod = 3;
    internal const int EpollCloexec = 0x80000;

    // ------------------------------------------------------------ lifecycle

    [LibraryImport(Library)]
    internal static partial int rpal_options_init(RpalNativeOptions* o);

    [LibraryImport(Library)]
    internal static partial int rpal_init(RpalNativeOptions* o);

    [LibraryImport(Library)]
    internal static partial int rpal_exit();

    [LibraryImport(Library)]
    internal static partial int rpal_slot_id();

    [LibraryImport(Library)]
    internal static partial int rpal_set_spin_ns(long ns);

    [LibraryImport(Library)]
    internal static partial void rpal_set_logger(delegate* unmanaged<int, byte*, nint, void> fn, nint context);

    [LibraryImport(Library)]
    internal static partial void rpal_set_log_sink(delegate* unmanaged<RpalNativeLogRecord*, nint, void> fn, nint context);

    [LibraryImport(Library)]
    internal static partial int rpal_runtime_dir(byte* buf, nuint size);

    [LibraryImport(Library)]
    internal static partial int rpal_list_services(byte* runtimeDir, RpalNativeServiceEntry* entries, nuint entrySize, nuint maxEntries);

    // ------------------------------------------------------------- services

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rpal_register_service(string name, nint* svc, ulong* key);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rpal_register_service_params(string name, RpalNativeServiceParams* p, nint* svc, ulong* key);

    [LibraryImport(Library)]
    internal static partial int rpal_unregister_service(nint svc);

    [LibraryImport(Library)]
    internal static partial int rpal_service_fd(nint svc);

    [LibraryImport(Library)]
    internal static partial int rpal_service_check(nint svc);

    [LibraryImport(Library)]
    internal static partial int rpal_accept(nint svc, nint* conn);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rpal_request_service(string name, nint* conn);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rpal_request_service_params(string name, RpalNativeRequestParams* p, nint* conn);

    [LibraryImport(Library)]
    internal static partial int rpal_release_service(nint conn);

    [LibraryImport(Library)]
    internal static partial int rpal_conn_shutdown(nint conn);

    [LibraryImport(Library)]
    internal static partial int rpal_conn_fd(nint conn);

    [LibraryImport(Library)]
    internal static partial int rpal_conn_info(nint conn, RpalNativePeerInfo* info);

    [LibraryImport(Library)]
    internal static partial int rpal_conn_stats(nint conn, RpalConnectionStats* stats);

    // --------------------------------------------------------------- memory

    [LibraryImport(Library)]
    internal static partial int rpal_alloc(nuint size, void** ptr);

    [LibraryImport(Library)]
    internal static partial int rpal_free(void* ptr);

    [LibraryImport(Library)]
    internal static partial long rpal_alloc_size(void* ptr);

    // ------------------------------------------------------------- messages

    [LibraryImport(Library)]
    internal static partial int rpal_send(nint conn, RpalMessage* msg);

    [LibraryImport(Library)]
    internal static partial int rpal_write_ptrs(nint conn, long* ptrs, int n);

    [LibraryImport(Library)]
    internal static partial int rpal_recv(nint conn, RpalMessage* msg);

    [LibraryImport(Library)]
    internal static partial int rpal_reply(nint conn, ulong id, RpalMessage* reply);

    [LibraryImport(Library)]
    internal static partial int rpal_release(nint conn, RpalMessage* msg);

    [LibraryImport(Library)]
    internal static partial int rpal_call(nint conn, RpalMessage* req, RpalMessage* reply, int timeoutMs);

    [LibraryImport(Library)]
    internal static partial int rpal_call_submit(nint conn, RpalMessage* req, ulong userData, ulong* id);

    [LibraryImport(Library)]
    internal static partial int rpal_call_submit_wait(nint conn, RpalMessage* req, ulong userData, int timeoutMs, ulong* id, RpalCompletion* done);

    [LibraryImport(Library)]
    internal static partial int rpal_call_submit_spin(nint conn, RpalMessage* req, ulong userData, long spinNs, ulong* id, RpalCompletion* done);

    [LibraryImport(Library)]
    internal static partial int rpal_call_complete(nint conn, RpalCompletion* c);

    // ---------------------------------------------------------------- epoll

    [LibraryImport(Library)]
    internal static partial int rpal_epoll_create(int flags);

    [LibraryImport(Library)]
    internal static partial int rpal_epoll_close(int epfd);

    [LibraryImport(Library)]
    internal static partial int rpal_epoll_ctl(int epfd, int op, int fd, RpalEpollEvent* ev);

    [LibraryImport(Library)]
    internal static partial int rpal_epoll_wait(int epfd, RpalEpollEvent* events, int maxevents, int timeoutMs);

    // --------------------------------------------------------------- fibers

    [LibraryImport(Library)]
    internal static partial int rpal_fiber_make(
        RpalNativeFiber* f, void* stack, nuint size, delegate* unmanaged<void*, void> fn, void* arg);

    [LibraryImport(Library)]
    internal static partial void rpal_fiber_switch(RpalNativeFiber* from, RpalNativeFiber* to);
}
