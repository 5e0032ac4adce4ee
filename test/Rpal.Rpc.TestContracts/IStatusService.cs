using Grpc.Core;

namespace Rpal.Rpc.TestContracts;

/// <summary>Handlers that fail, in each way a handler can.</summary>
[RpalService(ServiceNames.Status)]
public interface IStatusService
{
    int Ping();

    /// <summary>Throws InvalidOperationException(message) synchronously.</summary>
    void Fail(string message);

    /// <summary>Throws InvalidOperationException(message) after suspending.</summary>
    ValueTask ThrowAfterYieldAsync(string message);

    /// <summary>Throws InvalidOperationException(message) before it returns a task (not an async method).</summary>
    Task<int> ThrowBeforeTaskAsync(string message);

    /// <summary>Throws RpcException(code, detail) with one trailer.</summary>
    void ThrowRpc(StatusCode code, string detail, string trailerKey, string trailerValue);

    /// <summary>Throws RpcException(code, detail) with one trailer, after suspending.</summary>
    Task ThrowRpcAfterYieldAsync(StatusCode code, string detail, string trailerKey, string trailerValue);

    /// <summary>Sets the call context's Status to (code, detail) and returns normally.</summary>
    int AnswerWithContextStatus(StatusCode code, string detail);

    /// <summary>Answers <paramref name="size"/> bytes.</summary>
    byte[] Allocate(int size);

    /// <summary>The length of <paramref name="data"/>.</summary>
    int Measure(byte[] data);
}
