namespace Quickstart;

/// <summary>The server's implementation.</summary>
public sealed class Calculator : ICalculator
{
    /// <inheritdoc/>
    public int Add(int a, int b) => a + b;

    /// <inheritdoc/>
    public async ValueTask<string> GreetAsync(string name, CancellationToken cancellationToken = default)
    {
        await Task.Yield(); // suspends: the call continues on the same receiver thread
        return $"Hello, {name}, from process {Environment.ProcessId}!";
    }
}
