using Rpal.Rpc;

namespace Quickstart;

/// <summary>The contract both processes share.</summary>
[RpalService("demo.calculator")]
public interface ICalculator
{
    /// <summary>Adds two numbers.</summary>
    int Add(int a, int b);

    /// <summary>Greets someone, asynchronously.</summary>
    ValueTask<string> GreetAsync(string name, CancellationToken cancellationToken = default);
}
