// Services at the edges of what the generator accepts: the global namespace, a nested
// interface, nullable disabled, no methods, and names that clash with what the generator
// would pick (a type in the namespace, keywords, a parameter named like a generated type).
using Rpal.Rpc;

[RpalService("edge.global")]
public interface IGlobalService
{
    void Ping();
}

namespace Edge.Cases
{
    public class Outer
    {
        [RpalService("edge.nested")]
        public interface INested
        {
            Task<string> NameAsync(int id);
        }
    }

#nullable disable
    [RpalService("edge.oblivious")]
    internal interface IOblivious
    {
        string Echo(string text, byte[] data, int[] values);

        Task<string> EchoAsync(string text, CancellationToken cancellationToken);

        IAsyncEnumerable<string> Split(string text, CancellationToken cancellationToken);

        Task<string> JoinAsync(IAsyncEnumerable<string> parts);
    }
#nullable restore

    [RpalService("edge.empty")]
    public interface IEmpty
    {
    }

    /// <summary>Named like the class the generator would hold IClash's code in: it picks another name.</summary>
    public sealed class ClashRpal
    {
    }

    /// <summary>Named like IClash.Echo's generated request struct, and used by it.</summary>
    public struct EchoRequest
    {
        public int Value;
    }

    [RpalService("edge-clash_1")]
    public interface IClash
    {
        EchoRequest Echo(EchoRequest request);

        int @class(int @event, string Descriptor, int reader);

        IAsyncEnumerable<EchoRequest> Relay(int call, IAsyncEnumerable<EchoRequest> RelayItem);
    }
}
