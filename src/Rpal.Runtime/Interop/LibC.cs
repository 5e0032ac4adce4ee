using System.Runtime.InteropServices;

namespace Rpal.Runtime.Interop;

/// <summary>The few libc calls the receivers need: their wake-up eventfd, their threads' kernel ids.</summary>
internal static unsafe partial class LibC
{
    // CoreCLR maps "libc" to the C library's real soname (libc.so.6 on glibc).
    private const string Library = "libc";

    internal const int EfdCloexec = 0x80000;
    internal const int EfdNonblock = 0x800;

    [LibraryImport(Library, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int EventFd(uint initval, int flags);

    [LibraryImport(Library, EntryPoint = "read", SetLastError = true)]
    internal static partial nint Read(SafeHandle fd, void* buf, nint count);

    [LibraryImport(Library, EntryPoint = "write", SetLastError = true)]
    internal static partial nint Write(SafeHandle fd, void* buf, nint count);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    /// <summary>The calling thread's kernel id (glibc 2.30 and later).</summary>
    [LibraryImport(Library, EntryPoint = "gettid")]
    internal static partial int GetTid();
}
