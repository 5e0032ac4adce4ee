using System.Text.Json.Serialization;

namespace Rpal.Bench.Soak;

/// <summary>What one soak client process did, as it prints it ("done" and this as JSON) at its end.</summary>
internal sealed class SoakClientResult
{
    /// <summary>Calls made (sequence numbers 0 to Sent - 1).</summary>
    [JsonPropertyName("sent")]
    public long Sent { get; init; }

    /// <summary>Calls that returned a reply, right or wrong.</summary>
    [JsonPropertyName("completed")]
    public long Completed { get; init; }

    /// <summary>Calls that threw.</summary>
    [JsonPropertyName("failed")]
    public long Failed { get; init; }

    /// <summary>Replies that were not the reply to their own call.</summary>
    [JsonPropertyName("misrouted")]
    public long Misrouted { get; init; }

    /// <summary>Calls of each kind: blocking, awaited; inline (Ping), small payload, large payload.</summary>
    [JsonPropertyName("blocking")]
    public long Blocking { get; init; }

    /// <inheritdoc cref="Blocking"/>
    [JsonPropertyName("awaited")]
    public long Awaited { get; init; }

    /// <inheritdoc cref="Blocking"/>
    [JsonPropertyName("inline")]
    public long Inline { get; init; }

    /// <inheritdoc cref="Blocking"/>
    [JsonPropertyName("small")]
    public long Small { get; init; }

    /// <inheritdoc cref="Blocking"/>
    [JsonPropertyName("large")]
    public long Large { get; init; }

    /// <summary>The first failure or mismatch, described; null when there was none.</summary>
    [JsonPropertyName("first_error")]
    public string? FirstError { get; init; }
}
