using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

/// <summary>
/// "connect-client [--retry-ms N]": a client process in a runtime directory of the test's choosing
/// (RuntimeDirectoryTests). Connects to <see cref="ILifecycleTarget"/> (retrying on Unavailable for
/// up to N ms, default 0) and writes "connected PID", the server's process id; or, when the connect
/// fails with an <see cref="RpcException"/>, "connect-error CODE DETAIL". Exits 0 either way.
/// </summary>
internal static class ConnectClient
{
    public static async Task<int> RunAsync(string[] args)
    {
        int retryMs = args is ["--retry-ms", var ms] ? int.Parse(ms, CultureInfo.InvariantCulture) : 0;
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                await using RpalChannel channel = await RpalChannel.ConnectAsync(ServiceNames.Lifecycle);
                int pid = channel.CreateClient<ILifecycleTarget>().GetProcessId();
                Events.Write($"{ServerEvents.Connected} {pid.ToString(CultureInfo.InvariantCulture)}");
                return 0;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && Stopwatch.GetElapsedTime(start).TotalMilliseconds < retryMs)
            {
                await Task.Delay(20); // the server is not (yet again) registered: poll for it
            }
            catch (RpcException e)
            {
                Events.Write($"{ServerEvents.ConnectError} {e.StatusCode} {e.Status.Detail}");
                return 0;
            }
        }
    }
}
