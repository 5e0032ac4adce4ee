using Grpc.Core;
using Rpal.Rpc.Generated;
using Rpal.Runtime;

namespace Rpal.Rpc.Wire;

/// <summary>
/// The one place where a codec puts a message's parts into an arena buffer: allocates it as an
/// <see cref="RpalOutgoingMessage"/>, writes the body and then up to two metadata blocks with an
/// <see cref="RpalWriter"/>, frees the buffer when writing throws, and hands the message (which
/// now owns the buffer until it is sent) to the caller. No allocation beyond the arena buffer:
/// the body writers are static lambdas, cached by the compiler.
/// </summary>
internal static class PayloadEncoder
{
    /// <summary>Writes a body of the size the caller gave.</summary>
    public delegate void BodyWriter<TBody>(ref RpalWriter writer, scoped in TBody body)
        where TBody : allows ref struct;

    /// <summary>
    /// <paramref name="header"/> with a payload of <paramref name="bodySize"/> bytes written by
    /// <paramref name="writeBody"/>, then <paramref name="first"/> (<paramref name="firstSize"/>
    /// bytes, written when more than 0) and <paramref name="second"/> likewise: Data and Length
    /// set, the words left to the caller. Throws <see cref="RpalException"/> when the arena has
    /// no room, and what the writers throw (the buffer is then freed).
    /// </summary>
    public static RpalMessage Encode<TBody>(in RpalMessage header, scoped in TBody body, int bodySize, BodyWriter<TBody>? writeBody,
        Metadata? first = null, int firstSize = 0, Metadata? second = null, int secondSize = 0)
        where TBody : allows ref struct
    {
        var owned = RpalOutgoingMessage.Allocate(in header, bodySize + firstSize + secondSize);
        try
        {
            var writer = new RpalWriter(owned.Payload);
            writeBody?.Invoke(ref writer, in body);
            if (firstSize > 0)
            {
                MetadataCodec.Write(ref writer, first!);
            }

            if (secondSize > 0)
            {
                MetadataCodec.Write(ref writer, second!);
            }
        }
        catch
        {
            owned.Dispose();
            throw;
        }

        return owned.Detach(); // the caller's now: sent, or freed by whoever gives up on sending it
    }

    /// <summary>As <see cref="Encode{TBody}"/>, with no body: the payload is <paramref name="metadata"/> alone.</summary>
    public static RpalMessage Encode(in RpalMessage header, Metadata metadata, int size) =>
        Encode(in header, 0, 0, null, metadata, size);
}
