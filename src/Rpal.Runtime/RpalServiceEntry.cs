using System.Text;
using Rpal.Runtime.Interop;

namespace Rpal.Runtime;

/// <summary>
/// One service entry of a runtime directory, as the engine lists it (<c>struct
/// rpal_service_entry</c>, <see cref="RpalRegistry.ListServices"/>). All but <see cref="IsLive"/>
/// and <see cref="Connections"/> is what the entry's file records, which anyone who may write the
/// directory may have written.
/// </summary>
public sealed class RpalServiceEntry
{
    internal unsafe RpalServiceEntry(in RpalNativeServiceEntry entry)
    {
        IsLive = (entry.Flags & RpalNativeServiceEntry.Live) != 0;
        ProcessId = entry.Pid;
        Slot = entry.Slot;
        Key = entry.Key;
        Connections = (int)Math.Min(entry.Connections, int.MaxValue);
        fixed (byte* name = entry.Name)
        {
            var bytes = new ReadOnlySpan<byte>(name, NativeMethods.NameMax + 1);
            int end = bytes.IndexOf((byte)0); // the engine terminates it; do not rely on it
            Name = Encoding.UTF8.GetString(end >= 0 ? bytes[..end] : bytes[..NativeMethods.NameMax]);
        }
    }

    /// <summary>The service name.</summary>
    public string Name { get; }

    /// <summary>Whether a live process serves it (holds its lock, and the entry names that process).</summary>
    public bool IsLive { get; }

    /// <summary>The server's process id: the live one's, or the last one's; 0 when the entry records none.</summary>
    public int ProcessId { get; }

    /// <summary>The server's slot; -1 when the entry records none.</summary>
    public int Slot { get; }

    /// <summary>The service key; 0 when the entry records none.</summary>
    public ulong Key { get; }

    /// <summary>Live entries: sockets connected to the service now, clients in their handshake included; 0 otherwise.</summary>
    public int Connections { get; }
}
