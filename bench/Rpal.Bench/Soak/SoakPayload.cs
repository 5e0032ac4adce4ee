using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Rpal.Bench.Soak;

/// <summary>
/// What each soak call carries, derived from its (client, sequence number) pair alone, so that the
/// client and the server compute it independently: which method it calls, its payload's size and
/// content, and the reply that belongs to it. A reply meant for another call, or a payload that
/// was overwritten, does not match.
/// </summary>
internal static class SoakPayload
{
    /// <summary>Payloads at least this long always travel in the sender's arena, never inline.</summary>
    public const int LargeMin = 4 * 1024;

    /// <summary>The largest payload.</summary>
    public const int LargeMax = 64 * 1024;

    /// <summary>The largest of the small payloads (their sizes are 0 to this).</summary>
    public const int SmallMax = 1024;

    /// <summary>The kind of a call.</summary>
    public enum Kind
    {
        /// <summary>Ping: 12 bytes of arguments, an inline request and reply (one call in two).</summary>
        Ping,

        /// <summary>Echo with 0 to <see cref="SmallMax"/> bytes (31 calls in 64).</summary>
        SmallEcho,

        /// <summary>Echo with <see cref="LargeMin"/> to <see cref="LargeMax"/> bytes (1 call in 64).</summary>
        LargeEcho,
    }

    /// <summary>The call's key: everything else is derived from it.</summary>
    public static ulong Key(int client, long sequence) => Mix(((ulong)(uint)client << 48) ^ (ulong)sequence);

    public static Kind KindOf(ulong key) => (key & 63) switch
    {
        0 => Kind.LargeEcho,
        < 32 => Kind.SmallEcho,
        _ => Kind.Ping,
    };

    /// <summary>The payload size of an Echo call.</summary>
    public static int SizeOf(ulong key) => KindOf(key) == Kind.LargeEcho
        ? LargeMin + (int)((key >> 8) % (LargeMax - LargeMin + 1))
        : (int)((key >> 8) % (SmallMax + 1));

    /// <summary>What Ping answers.</summary>
    public static long PingReply(ulong key) => (long)Mix(key ^ 0x5A5A_5A5A_5A5A_5A5AUL);

    /// <summary>Writes the payload of the call with <paramref name="key"/> into <paramref name="destination"/> (its whole length).</summary>
    public static void Fill(Span<byte> destination, ulong key)
    {
        Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(destination);
        ulong state = key;
        for (int i = 0; i < words.Length; i++)
        {
            words[i] = Next(ref state);
        }

        Span<byte> tail = destination[(words.Length * sizeof(ulong))..];
        if (tail.Length > 0)
        {
            Span<byte> last = stackalloc byte[sizeof(ulong)];
            BinaryPrimitives.WriteUInt64LittleEndian(last, Next(ref state));
            last[..tail.Length].CopyTo(tail);
        }
    }

    /// <summary>Whether <paramref name="payload"/> is the payload of the call with <paramref name="key"/> (its size included).</summary>
    public static bool IsPayloadOf(ReadOnlySpan<byte> payload, ulong key)
    {
        if (payload.Length != SizeOf(key))
        {
            return false;
        }

        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(payload);
        ulong state = key;
        for (int i = 0; i < words.Length; i++)
        {
            if (words[i] != Next(ref state))
            {
                return false;
            }
        }

        ReadOnlySpan<byte> tail = payload[(words.Length * sizeof(ulong))..];
        if (tail.Length > 0)
        {
            Span<byte> last = stackalloc byte[sizeof(ulong)];
            BinaryPrimitives.WriteUInt64LittleEndian(last, Next(ref state));
            return tail.SequenceEqual(last[..tail.Length]);
        }

        return true;
    }

    /// <summary>Writes the reply to <paramref name="request"/>: its bytes with every bit inverted.</summary>
    public static void Invert(ReadOnlySpan<byte> request, Span<byte> reply)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i + Vector<byte>.Count <= request.Length; i += Vector<byte>.Count)
            {
                (~new Vector<byte>(request[i..])).CopyTo(reply[i..]);
            }
        }

        for (; i < request.Length; i++)
        {
            reply[i] = (byte)~request[i];
        }
    }

    /// <summary>Whether <paramref name="reply"/> is the reply to <paramref name="request"/>.</summary>
    public static bool IsReplyTo(ReadOnlySpan<byte> reply, ReadOnlySpan<byte> request)
    {
        if (reply.Length != request.Length)
        {
            return false;
        }

        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i + Vector<byte>.Count <= request.Length; i += Vector<byte>.Count)
            {
                if ((new Vector<byte>(reply[i..]) ^ new Vector<byte>(request[i..])) != Vector<byte>.AllBitsSet)
                {
                    return false;
                }
            }
        }

        for (; i < request.Length; i++)
        {
            if ((byte)(reply[i] ^ request[i]) != 0xFF)
            {
                return false;
            }
        }

        return true;
    }

    private static ulong Next(ref ulong state) => Mix(state += 0x9E37_79B9_7F4A_7C15UL);

    // splitmix64's finaliser: every input bit flips about half the output bits.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL;
        return z ^ (z >> 31);
    }
}
