using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.TestContracts.Compat;
using Range = Rpal.Rpc.TestContracts.Compat.Range;

namespace Rpal.Rpc.TestServer;

/// <summary>The protoc-generated service of the GrpcCompat tests, implemented as for grpc-dotnet.</summary>
internal sealed class CompatCalculator : Calculator.CalculatorBase
{
    public override async Task<Number> Square(Number request, ServerCallContext context)
    {
        if (request.Command == "deadline-ms")
        {
            // the milliseconds left to the call's deadline, -1 for none
            return new Number { Value = context.Deadline == DateTime.MaxValue ? -1 : (long)(context.Deadline - DateTime.UtcNow).TotalMilliseconds };
        }

        await Obey(request.Command, context);
        return new Number { Value = request.Value * request.Value, Blob = request.Blob };
    }

    public override async Task Count(Range request, IServerStreamWriter<Number> responseStream, ServerCallContext context)
    {
        ByteString blob = ByteString.CopyFrom(new byte[request.BlobSize]);
        for (long i = 0; i < request.Count; i++)
        {
            await responseStream.WriteAsync(new Number { Value = request.Start + i, Blob = blob });
        }

        if (request.HoldTag != 0)
        {
            await Hold(request.HoldTag, context);
        }

        if (request.FailWith != 0)
        {
            throw new RpcException(new Status((StatusCode)request.FailWith, $"failed after {request.Count}"));
        }
    }

    public override async Task<Sum> Add(IAsyncStreamReader<Number> requestStream, ServerCallContext context)
    {
        var sum = new Sum();
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            await Obey(requestStream.Current.Command, context);
            sum.Total += requestStream.Current.Value;
            sum.Count++;
        }

        return sum;
    }

    public override async Task Echo(IAsyncStreamReader<Number> requestStream, IServerStreamWriter<Number> responseStream, ServerCallContext context)
    {
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            Number n = requestStream.Current;
            await Obey(n.Command, context);
            await responseStream.WriteAsync(n);
        }
    }

    private static async Task Obey(string command, ServerCallContext context)
    {
        switch (command.Split(':'))
        {
            case ["fail", var code]:
                throw new RpcException(new Status((StatusCode)int.Parse(code, System.Globalization.CultureInfo.InvariantCulture), "failed as asked"));
            case ["hold", var tag]:
                await Hold(int.Parse(tag, System.Globalization.CultureInfo.InvariantCulture), context);
                break;
            case ["headers", var header]:
                await context.WriteResponseHeadersAsync(Header(header));
                break;
            case ["headers-twice", var header]:
                await context.WriteResponseHeadersAsync(Header(header));
                await context.WriteResponseHeadersAsync(Header(header)); // throws: the call fails with Unknown
                break;
            case ["echo-headers"]:
                foreach (Metadata.Entry entry in context.RequestHeaders)
                {
                    context.ResponseTrailers.Add(entry);
                }

                break;
        }
    }

    private static Task Hold(int tag, ServerCallContext context) => Holds.HoldAsync(tag, context.CancellationToken);

    private static Metadata Header(string keyValue) =>
        new() { { keyValue.Split('=')[0], keyValue.Split('=')[1] } };
}

/// <summary>
/// The relay of the propagation tests: forwards each number to Calculator.Square on its own
/// service's server, carrying this call's deadline and cancellation into that call.
/// </summary>
internal sealed class CompatRelay : Relay.RelayBase
{
    private readonly Lazy<Calculator.CalculatorClient> _calculator = new(() =>
        new Calculator.CalculatorClient(RpalChannel.Connect(ServiceNames.Compat)));

    public override async Task<Number> Forward(Number request, ServerCallContext context) =>
        await _calculator.Value.SquareAsync(request, new CallOptions().PropagateFrom(context));
}

/// <summary>A server interceptor: every call's trailers say which method it intercepted.</summary>
internal sealed class TrailerInterceptor : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Mark(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Mark(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Mark(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Mark(context);
        return continuation(requestStream, responseStream, context);
    }

    private static void Mark(ServerCallContext context) => context.ResponseTrailers.Add("intercepted", context.Method);
}
