using Greet;
using Grpc.Core;

namespace GreeterExample;

/// <summary>
/// The implementation of greet.Greeter, written once against Grpc.Core's
/// <see cref="ServerCallContext"/>: RpalServer and grpc-dotnet's Kestrel host both run it.
/// Every reply carries this process's id, so the client can tell which process answered.
/// </summary>
public sealed class GreeterService : Greeter.GreeterBase
{
    private static readonly int s_pid = Environment.ProcessId;

    /// <inheritdoc/>
    public override async Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context)
    {
        ThrowIfNoName(request);
        if (request.DelayMs > 0)
        {
            // The token fires when the caller's deadline passes or it cancels. The exception is
            // left to the host, which reports DeadlineExceeded or Cancelled as the case is; a
            // status of our own could reach an Rpal caller before its own deadline timer fires.
            await Task.Delay(request.DelayMs, context.CancellationToken);
        }

        // Trailers travel on both transports (response headers do not over Rpal).
        context.ResponseTrailers.Add("greeted-by", s_pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new HelloReply { Message = $"Hello, {request.Name}!", ServerPid = s_pid };
    }

    /// <inheritdoc/>
    public override async Task StreamGreetings(HelloRequest request, IServerStreamWriter<HelloReply> responseStream, ServerCallContext context)
    {
        ThrowIfNoName(request);
        int count = request.Count > 0 ? request.Count : 3;
        for (int i = 1; i <= count; i++)
        {
            await responseStream.WriteAsync(new HelloReply { Message = $"Hello #{i}, {request.Name}", ServerPid = s_pid });
        }
    }

    /// <inheritdoc/>
    public override async Task<NameCount> CountNames(IAsyncStreamReader<HelloRequest> requestStream, ServerCallContext context)
    {
        var reply = new NameCount { ServerPid = s_pid };
        await foreach (HelloRequest request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            reply.Count++;
            reply.Names.Add(request.Name);
        }

        return reply;
    }

    /// <inheritdoc/>
    public override async Task Chat(IAsyncStreamReader<HelloRequest> requestStream, IServerStreamWriter<HelloReply> responseStream, ServerCallContext context)
    {
        int seen = 0;
        await foreach (HelloRequest request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            ThrowIfNoName(request);
            seen++;
            await responseStream.WriteAsync(new HelloReply { Message = $"Hi {request.Name}, you are guest {seen}", ServerPid = s_pid });
        }
    }

    private static void ThrowIfNoName(HelloRequest request)
    {
        if (string.IsNullOrEmpty(request.Name))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "name must not be empty"));
        }
    }
}
