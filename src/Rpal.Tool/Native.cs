using System.Runtime.InteropServices;

namespace Rpal.Tool;

/// <summary>The few libc calls the tool makes.</summary>
internal static unsafe partial class Native
{
    private const int F_GETLK = 5;
    private const short F_WRLCK = 1;
    private const short F_UNLCK = 2;

    [LibraryImport("libc")]
    internal static partial uint geteuid();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int cmd, Flock* lk);

    /// <summary>struct flock on x86-64.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Flock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    /// <summary>
    /// The pid holding a POSIX write lock on the whole file (the registry's sign of a live owner,
    /// native/librpal/docs/protocol.md "Registry"), or 0 when nobody holds it.
    /// </summary>
    public static int LockHolder(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var lk = new Flock { Type = F_WRLCK };
        if (fcntl((int)file.SafeFileHandle.DangerousGetHandle(), F_GETLK, &lk) < 0)
        {
            throw new IOException($"fcntl(F_GETLK) on {path}: errno {Marshal.GetLastPInvokeError()}");
        }

        return lk.Type == F_UNLCK ? 0 : lk.Pid;
    }
}
