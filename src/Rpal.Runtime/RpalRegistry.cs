using System.Runtime.InteropServices;
using Rpal.Runtime.Interop;

namespace Rpal.Runtime;

/// <summary>
/// What tools see of a runtime directory, from the engine (rpal_runtime_dir,
/// rpal_list_services): neither needs <see cref="RpalEngine.Start"/>, and neither changes anything.
/// </summary>
public static unsafe class RpalRegistry
{
    /// <summary>
    /// The runtime directory: this process's once the engine started, else the one it would use
    /// (RPAL_RUNTIME_DIR, RPAL_RUNTIME_GROUP, XDG_RUNTIME_DIR, /tmp/rpal-UID or /tmp/rpal-gGID, in
    /// the native environment). Throws <see cref="RpalException"/>: EINVAL for a malformed RPAL_*
    /// variable, ENAMETOOLONG.
    /// </summary>
    public static string RuntimeDirectory
    {
        get
        {
            byte* buffer = stackalloc byte[512];
            int rc = NativeMethods.rpal_runtime_dir(buffer, 512);
            if (rc < 0)
            {
                ThrowHelper.ThrowRpal(rc, "rpal_runtime_dir");
            }

            return Marshal.PtrToStringUTF8((nint)buffer, rc);
        }
    }

    /// <summary>
    /// The service entries of <paramref name="runtimeDirectory"/> (null: <see cref="RuntimeDirectory"/>),
    /// live or not, sorted by name. Throws <see cref="RpalException"/>: ENOENT when the directory
    /// holds no registry, EACCES, ENOTDIR, EINVAL, ENOMEM.
    /// </summary>
    public static IReadOnlyList<RpalServiceEntry> ListServices(string? runtimeDirectory = null)
    {
        nint dir = runtimeDirectory is null ? 0 : Marshal.StringToCoTaskMemUTF8(runtimeDirectory);
        try
        {
            int room = 16;
            while (true)
            {
                var entries = new RpalNativeServiceEntry[room];
                int count;
                fixed (RpalNativeServiceEntry* p = entries)
                {
                    count = NativeMethods.rpal_list_services((byte*)dir, p, (nuint)sizeof(RpalNativeServiceEntry), (nuint)room);
                }

                if (count < 0)
                {
                    ThrowHelper.ThrowRpal(count, runtimeDirectory is null ? "rpal_list_services" : $"rpal_list_services('{runtimeDirectory}')");
                }

                if (count <= room)
                {
                    var list = new RpalServiceEntry[count];
                    for (int i = 0; i < count; i++)
                    {
                        list[i] = new RpalServiceEntry(in entries[i]);
                    }

                    return list;
                }

                room = count; // entries came meanwhile: again, with room for them
            }
        }
        finally
        {
            Marshal.FreeCoTaskMem(dir);
        }
    }
}
