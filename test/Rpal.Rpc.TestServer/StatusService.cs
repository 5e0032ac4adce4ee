using Grpc.Core;
using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

internal sealed class StatusService : IStatusService
{
    public int Ping() => 1;

    public void Fail(string message) => throw new InvalidOperationException(message);

    public async ValueTask ThrowAfterYieldAsync(string message)
    {
        await Task.Yield();
        throw new InvalidOperationException(message);
    }

    public Task<int> ThrowBeforeTaskAsync(string message) => throw new InvalidOperationException(message);

    public void ThrowRpc(StatusCode code, string detail, string trailerKey, string trailerValue) =>
        throw new RpcException(new Status(code, detail), new Metadata { { trailerKey, trailerValue } });

    public async Task ThrowRpcAfterYieldAsync(StatusCode code, string detail, string trailerKey, string trailerValue)
    {
        await Task.Yield();
        ThrowRpc(code, detail, trailerKey, trailerValue);
    }

    public int AnswerWithContextStatus(StatusCode code, string detail)
    {
        RpalServerCallContext.Current!.Status = new Status(code, detail);
        return 0;
    }

    public byte[] Allocate(int size) => new byte[size];

    public int Measure(byte[] data) => data.Length;
}
