using System.Globalization;
using Grpc.Core;
using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

/// <summary>
/// "access-client [--trust-uid N] [--trust-gid N] [--hold]": a client process of AccessControlTests, started
/// as a chosen user with chosen groups. It connects to the shapes service with those trusted
/// servers, calls Add(2, 3) and writes "result 5", or "status CODE DETAIL" when the connect or the
/// call fails with an RpcException (FailedPrecondition when the engine does not start); exits 0
/// (with --hold, after a successful call, once its stdin closes).
/// </summary>
internal static class AccessClient
{
    /// <summary>Stdout: "result N".</summary>
    public const string Result = "result";

    /// <summary>Stdout: "status CODE DETAIL".</summary>
    public const string Status = "status";

    public static async Task<int> RunAsync(string[] args)
    {
        var options = new RpalChannelOptions();
        bool hold = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--trust-uid": options.TrustedServers.UserIds.Add(uint.Parse(args[++i], CultureInfo.InvariantCulture)); break;
                case "--trust-gid": options.TrustedServers.GroupIds.Add(uint.Parse(args[++i], CultureInfo.InvariantCulture)); break;
                case "--hold": hold = true; break;
                default:
                    Console.Error.WriteLine($"access-client: unknown argument '{args[i]}'");
                    return 2;
            }
        }

        try
        {
            await using RpalChannel channel = await RpalChannel.ConnectAsync(ServiceNames.Shapes, options);
            int sum = channel.CreateClient<IMethodShapes>().Add(2, 3);
            Events.Write($"{Result} {sum.ToString(CultureInfo.InvariantCulture)}");
            while (hold && await Console.In.ReadLineAsync() is not null)
            {
                // keeps the connection until stdin closes
            }
        }
        catch (RpcException e)
        {
            Events.Write($"{Status} {e.StatusCode} {e.Status.Detail}");
        }

        return 0;
    }
}
