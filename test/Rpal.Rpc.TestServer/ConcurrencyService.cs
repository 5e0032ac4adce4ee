using Rpal.Rpc.TestContracts;

namespace Rpal.Rpc.TestServer;

internal sealed class ConcurrencyService : IConcurrencyService
{
    public CallTag Echo(CallTag tag) => tag.Answer();

    public ValueTask<CallTag> EchoAsync(CallTag tag) => new(tag.Answer());
}
