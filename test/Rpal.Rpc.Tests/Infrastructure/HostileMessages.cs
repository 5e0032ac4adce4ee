using System.Runtime.InteropServices;
using CsCheck;
using Rpal.Runtime;

namespace Rpal.Rpc.Tests.Infrastructure;

/// <summary>
/// Messages a hostile peer could send, for the property tests of the wire codecs: arbitrary
/// words and payloads, the payload pinned in process as the engine hands one over (already
/// checked to lie in the peer's arena).
/// </summary>
internal static class HostileMessages
{
    /// <summary>What a test does with the message and its payload.</summary>
    public delegate void MessageAction(ref RpalMessage message, ReadOnlySpan<byte> payload);

    /// <summary>A word that is either anything or a length near the payload's.</summary>
    public static Gen<ulong> Word { get; } = Gen.OneOf(Gen.ULong, Gen.ULong[0, 160], Gen.Const(0UL));

    /// <summary>Runs <paramref name="action"/> on a message of these words and status, its payload an exact pinned copy of <paramref name="payload"/>.</summary>
    public static void With(ulong[] words, int status, byte[] payload, MessageAction action)
    {
        byte[] exact = payload.ToArray();
        GCHandle pin = GCHandle.Alloc(exact, GCHandleType.Pinned);
        try
        {
            var message = new RpalMessage
            {
                Word0 = words[0],
                Word1 = words[1],
                Word2 = words[2],
                Word3 = words[3],
                Status = status,
                Data = exact.Length == 0 ? 0 : pin.AddrOfPinnedObject(), // no payload: no pointer, as the engine gives it
                Length = (ulong)exact.Length,
            };
            action(ref message, exact);
        }
        finally
        {
            pin.Free();
        }
    }
}
