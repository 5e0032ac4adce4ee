namespace Rpal.Rpc.TestContracts;

/// <summary>Answers each tag with <see cref="CallTag.Answer"/>.</summary>
[RpalService(ServiceNames.Concurrency)]
public interface IConcurrencyService
{
    CallTag Echo(CallTag tag);

    ValueTask<CallTag> EchoAsync(CallTag tag);
}
