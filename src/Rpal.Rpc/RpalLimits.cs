using System.Diagnostics.CodeAnalysis;
using Grpc.Core;

namespace Rpal.Rpc;

/// <summary>Message-size limits (RpalServerOptions / RpalChannelOptions): defaults and the status a breach becomes.</summary>
internal static class RpalLimits
{
    /// <summary>16 MiB: a quarter of the part of the engine's default arena (128 MiB) kept for messages (64 MiB).</summary>
    public const int DefaultMaxReceiveMessageSize = 16 << 20;

    /// <summary>A limit as the hot path compares it: null (no limit) as <see cref="ulong.MaxValue"/>.</summary>
    public static ulong Effective(int? limit, string name)
    {
        if (limit is not { } value)
        {
            return ulong.MaxValue;
        }

        ArgumentOutOfRangeException.ThrowIfNegative(value, name);
        return (ulong)value;
    }

    /// <summary>A received message larger than the receiver's limit.</summary>
    public static Status TooLargeReceived(string what, string method, ulong size, ulong limit, string option) =>
        new(StatusCode.ResourceExhausted,
            $"{method}: received a {what} of {size} bytes, larger than the limit of {limit} bytes ({option}).");

    /// <summary>A message to send larger than the sender's limit.</summary>
    public static Status TooLargeToSend(string what, string method, ulong size, ulong limit, string option) =>
        new(StatusCode.ResourceExhausted,
            $"{method}: the {what} to send is {size} bytes, larger than the limit of {limit} bytes ({option}).");

    [DoesNotReturn]
    public static void ThrowTooLargeToSend(string what, string method, ulong size, ulong limit, string option) =>
        throw new RpcException(TooLargeToSend(what, method, size, limit, option));
}
