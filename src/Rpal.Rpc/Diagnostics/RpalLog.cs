using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Rpal.Rpc.Diagnostics;

/// <summary>
/// Every log event of Rpal.Rpc, source-generated ([LoggerMessage]: nothing is formatted or
/// allocated when the level is off). The ids and names are stable: docs/observability.md lists
/// them, and tools filter on them. Ids 1-19 are the server's (category <see cref="ServerCategory"/>),
/// 20-29 the client's (<see cref="ChannelCategory"/>), 30-39 the engine's (<see cref="EngineCategory"/>).
/// Nothing here is logged per call at Information or above, except failures.
/// </summary>
internal static partial class RpalLog
{
    public const string ServerCategory = "Rpal.Rpc.RpalServer";
    public const string ChannelCategory = "Rpal.Rpc.RpalChannel";
    public const string EngineCategory = "Rpal.Engine";

    // Server (RpalServer, ServerConnection)

    [LoggerMessage(EventId = 1, EventName = "ServerStarted", Level = LogLevel.Information,
        Message = "Rpal server started: services {Services}, {ReceiverThreads} receiver threads")]
    public static partial void ServerStarted(ILogger logger, string services, int receiverThreads);

    [LoggerMessage(EventId = 2, EventName = "ServerStopped", Level = LogLevel.Information,
        Message = "Rpal server stopped: services {Services}")]
    public static partial void ServerStopped(ILogger logger, string services);

    [LoggerMessage(EventId = 3, EventName = "ClientConnected", Level = LogLevel.Information,
        Message = "Client connected to {Service}: pid {ProcessId}, uid {UserId}, slot {Slot}")]
    public static partial void ClientConnected(ILogger logger, string service, int processId, uint userId, int slot);

    [LoggerMessage(EventId = 4, EventName = "ClientDisconnected", Level = LogLevel.Information,
        Message = "Client disconnected from {Service}: pid {ProcessId}, uid {UserId}, slot {Slot}")]
    public static partial void ClientDisconnected(ILogger logger, string service, int processId, uint userId, int slot);

    [LoggerMessage(EventId = 5, EventName = "ClientDied", Level = LogLevel.Warning,
        Message = "Client of {Service} went away with {CallsInFlight} calls in flight, which are cancelled: pid {ProcessId}, uid {UserId}, slot {Slot}")]
    public static partial void ClientDied(ILogger logger, string service, int callsInFlight, int processId, uint userId, int slot);

    [LoggerMessage(EventId = 6, EventName = "MalformedRequest", Level = LogLevel.Warning,
        Message = "Malformed request on {Service} from pid {ProcessId}, answered with Internal: {Reason}")]
    public static partial void MalformedRequest(ILogger logger, string service, int processId, string reason);

    [LoggerMessage(EventId = 7, EventName = "StreamProtocolViolation", Level = LogLevel.Warning,
        Message = "{Method}: the client (pid {ProcessId}) broke the stream protocol; the call ends with {StatusCode}")]
    public static partial void StreamProtocolViolation(ILogger logger, string method, int processId, StatusCode statusCode);

    [LoggerMessage(EventId = 8, EventName = "ServerError", Level = LogLevel.Error,
        Message = "An answer could not be sent, or a cancellation callback threw; the server goes on")]
    public static partial void ServerError(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 9, EventName = "HandlerFailed", Level = LogLevel.Error,
        Message = "{Method}: the handler threw; the call ends with {StatusCode}")]
    public static partial void HandlerFailed(ILogger logger, string method, StatusCode statusCode, Exception exception);

    [LoggerMessage(EventId = 16, EventName = "HandlerAbandoned", Level = LogLevel.Warning,
        Message = "{Method}: the handler was still running {RunningMs} ms after it started when StopAsync gave up on it (grace period and cancellation over); its connection is closed (the client sees Unavailable) and its receiver thread is left to it")]
    public static partial void HandlerAbandoned(ILogger logger, string method, long runningMs);

    [LoggerMessage(EventId = 17, EventName = "RegistrationRestored", Level = LogLevel.Warning,
        Message = "The registration of {Service} had vanished (its runtime directory or its entry there was removed or replaced); registered it again")]
    public static partial void RegistrationRestored(ILogger logger, string service);

    [LoggerMessage(EventId = 18, EventName = "RegistrationLost", Level = LogLevel.Error,
        Message = "The registration of {Service} vanished and cannot be restored, so new clients cannot reach this server (retried every second): {Reason}")]
    public static partial void RegistrationLost(ILogger logger, string service, string reason);

    // Client (RpalChannel, ChannelCompletions, PendingCall)

    [LoggerMessage(EventId = 20, EventName = "ChannelConnected", Level = LogLevel.Information,
        Message = "Connected to {Service}: server pid {ProcessId}, uid {UserId}, slot {Slot}")]
    public static partial void ChannelConnected(ILogger logger, string service, int processId, uint userId, int slot);

    [LoggerMessage(EventId = 21, EventName = "ChannelClosed", Level = LogLevel.Information,
        Message = "Channel to {Service} closed")]
    public static partial void ChannelClosed(ILogger logger, string service);

    [LoggerMessage(EventId = 22, EventName = "ServerDied", Level = LogLevel.Warning,
        Message = "The server of {Service} went away (pid {ProcessId}, slot {Slot}); calls in flight fail with Unavailable")]
    public static partial void ServerDied(ILogger logger, string service, int processId, int slot);

    [LoggerMessage(EventId = 23, EventName = "MalformedReply", Level = LogLevel.Warning,
        Message = "{Method}: malformed reply from the server, the call fails with Internal: {Reason}")]
    public static partial void MalformedReply(ILogger logger, string method, string reason);

    // Engine (RpalEngine.Log, routed by EngineLogRoute)

    [LoggerMessage(EventId = 30, EventName = "EngineMessage", Message = "{Message}")]
    public static partial void EngineMessage(ILogger logger, LogLevel level, string message);

    [LoggerMessage(EventId = 31, EventName = "PeerRefused", Message = "{Message}")]
    public static partial void PeerRefused(ILogger logger, LogLevel level, string message);

    [LoggerMessage(EventId = 32, EventName = "PeerProtocolViolation", Message = "{Message}")]
    public static partial void PeerProtocolViolation(ILogger logger, LogLevel level, string message);
}
