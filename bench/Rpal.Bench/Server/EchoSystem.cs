using Rpal.Runtime;

namespace Rpal.Bench.Server;

/// <summary>
/// One way of making the bench server's 8-byte echo (<see cref="EchoClients"/>): a blocking call
/// (<see cref="Blocking"/>), an awaited one (<see cref="Awaited"/>), or a round trip through a
/// session (<see cref="Session"/>), exactly one of the three.
/// </summary>
/// <param name="Name">The row's name in the reports (<c>rpal</c>, <c>uds-epoll</c>, ...).</param>
/// <param name="Blocking">The call, returning its argument, for a caller that blocks.</param>
/// <param name="Awaited">The call, returning its argument, for a caller that awaits.</param>
/// <param name="Stats">The engine's counters of the system's connection, where the bench can read them (the raw engine's only).</param>
/// <param name="Session">
/// The floor (<see cref="FloorLine"/>): a session opened before the warm-up and disposed after
/// the last call, its round trips the calls. Its server spins on the line meanwhile, so its CPU
/// per call is a whole core: the paced scenario leaves it out.
/// </param>
internal sealed record EchoSystem(
    string Name,
    Func<long, long>? Blocking = null,
    Func<long, ValueTask<long>>? Awaited = null,
    Func<RpalConnectionStats>? Stats = null,
    Func<FloorLine>? Session = null);
