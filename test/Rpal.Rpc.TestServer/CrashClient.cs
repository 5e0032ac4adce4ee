using System.Globalization;
using Rpal.Rpc.TestContracts;
using Rpal.Runtime;

namespace Rpal.Rpc.TestServer;

/// <summary>
/// "crash-client TAG": a client process of <see cref="ICrashClientsTarget"/> that CrashClientKilledTests
/// kills. It makes calls whose request and reply bodies travel in arena payloads, writes "slot N"
/// (its engine slot) and "ready", and waits to be killed with HoldAsync(TAG) in flight (with a
/// cancellable token, so that the server has a token to fire when this process dies).
/// </summary>
internal static class CrashClient
{
    /// <summary>Stdout, "slot N": the engine slot of the client process.</summary>
    public const string Slot = "slot";

    public static async Task<int> RunAsync(int tag)
    {
        await using RpalChannel channel = await RpalChannel.ConnectAsync(ServiceNames.CrashClients);
        ICrashClientsTarget client = channel.CreateClient<ICrashClientsTarget>();

        byte[] request = CrashFill.Make(64 * 1024, (byte)tag);
        if (client.Checksum(request) != Checksums.Fnv1a64(request))
        {
            Events.Write($"{ServerEvents.Error} the server's checksum of the request differs");
            return 1;
        }

        byte[] reply = client.Fill(48 * 1024, (byte)tag);
        if (!reply.AsSpan().SequenceEqual(CrashFill.Make(48 * 1024, (byte)tag)))
        {
            Events.Write($"{ServerEvents.Error} the reply's bytes differ");
            return 1;
        }

        using var cts = new CancellationTokenSource(); // never cancelled: the call is cancellable
        Task<int> held = client.HoldAsync(tag, cts.Token).AsTask();
        Events.Write(Slot + " " + RpalEngine.SlotId.ToString(CultureInfo.InvariantCulture));
        Events.Write(ServerEvents.Ready);
        await held; // the server holds it until this process dies
        return 1;
    }
}
