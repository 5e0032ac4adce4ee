using Microsoft.Extensions.Logging;
using Rpal.Rpc.Diagnostics;
using Rpal.Rpc.Tests.Infrastructure;
using Rpal.Runtime;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>
/// The engine's reports are routed to event ids by the code the engine passes with them, whatever
/// their text says (issue 17: the managed side does not guess).
/// </summary>
public sealed class EngineLogRouteTests
{
    [Theory]
    [InlineData(RpalLogCode.PeerRefused, "a text that names nothing", 31, "PeerRefused")]
    [InlineData(RpalLogCode.RefusedByPeer, "service x: too many", 31, "PeerRefused")]
    [InlineData(RpalLogCode.HandshakeInvalid, "handshake from slot 3 refused: a bad ring size", 32, "PeerProtocolViolation")]
    [InlineData(RpalLogCode.ProtocolViolation, "ring positions", 32, "PeerProtocolViolation")]
    [InlineData(RpalLogCode.ConnectionEnded, "x: pid 7 sent a refused thing", 30, "EngineMessage")]
    [InlineData(RpalLogCode.Other, "refused", 30, "EngineMessage")]
    [InlineData((RpalLogCode)99, "a code of a later engine", 30, "EngineMessage")]
    public void TheEventId_ComesFromTheCode_NotTheText(RpalLogCode code, string text, int id, string name)
    {
        var logs = new RecordingLoggerFactory();
        ILogger logger = logs.CreateLogger(RpalLog.EngineCategory);

        EngineLogRoute.Route(logger, new RpalLogEntry(RpalEngine.LogLevelWarning, code, text));

        LogEntry entry = Assert.Single(logs.Entries);
        Assert.Equal(id, entry.EventId.Id);
        Assert.Equal(name, entry.EventId.Name);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Equal(text, entry.Message);
    }
}
