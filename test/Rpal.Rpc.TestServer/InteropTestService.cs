using Google.Protobuf;
using Grpc.Core;
using Grpc.Testing;

namespace Rpal.Rpc.TestServer;

/// <summary>
/// gRPC's interoperability test service as its client checks expect it (the protoc-generated base
/// class, unchanged): payloads of the sizes asked for, the status asked for, and the metadata
/// echo (the request header "x-grpc-test-echo-initial" comes back as a response header,
/// "x-grpc-test-echo-trailing-bin" as a trailer). UnimplementedCall is left to the base class.
/// </summary>
internal sealed class InteropTestService : TestService.TestServiceBase
{
    private const string EchoInitial = "x-grpc-test-echo-initial";
    private const string EchoTrailing = "x-grpc-test-echo-trailing-bin";

    public override Task<Empty> EmptyCall(Empty request, ServerCallContext context) => Task.FromResult(new Empty());

    public override async Task<SimpleResponse> UnaryCall(SimpleRequest request, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        ThrowIfAsked(request.ResponseStatus);
        return new SimpleResponse { Payload = Zeros(request.ResponseSize) };
    }

    public override Task<SimpleResponse> CacheableUnaryCall(SimpleRequest request, ServerCallContext context) => UnaryCall(request, context);

    public override async Task StreamingOutputCall(StreamingOutputCallRequest request, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        await RespondAsync(request, responseStream, context);
        ThrowIfAsked(request.ResponseStatus);
    }

    public override async Task<StreamingInputCallResponse> StreamingInputCall(IAsyncStreamReader<StreamingInputCallRequest> requestStream, ServerCallContext context)
    {
        int sum = 0;
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            sum += requestStream.Current.Payload?.Body.Length ?? 0;
        }

        return new StreamingInputCallResponse { AggregatedPayloadSize = sum };
    }

    public override async Task FullDuplexCall(IAsyncStreamReader<StreamingOutputCallRequest> requestStream, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            StreamingOutputCallRequest request = requestStream.Current;
            ThrowIfAsked(request.ResponseStatus);
            await RespondAsync(request, responseStream, context);
        }
    }

    public override async Task HalfDuplexCall(IAsyncStreamReader<StreamingOutputCallRequest> requestStream, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        var requests = new List<StreamingOutputCallRequest>();
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            requests.Add(requestStream.Current);
        }

        foreach (StreamingOutputCallRequest request in requests)
        {
            await RespondAsync(request, responseStream, context);
        }
    }

    private static async Task RespondAsync(StreamingOutputCallRequest request, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        foreach (ResponseParameters p in request.ResponseParameters)
        {
            if (p.IntervalUs > 0)
            {
                await Task.Delay(TimeSpan.FromMicroseconds(p.IntervalUs), context.CancellationToken);
            }

            await responseStream.WriteAsync(new StreamingOutputCallResponse { Payload = Zeros(p.Size) });
        }
    }

    private static async Task EchoMetadataAsync(ServerCallContext context)
    {
        if (context.RequestHeaders.Get(EchoInitial) is { } initial)
        {
            await context.WriteResponseHeadersAsync(new Metadata { { EchoInitial, initial.Value } });
        }

        if (context.RequestHeaders.Get(EchoTrailing) is { } trailing)
        {
            context.ResponseTrailers.Add(EchoTrailing, trailing.ValueBytes);
        }
    }

    private static void ThrowIfAsked(EchoStatus? status)
    {
        if (status is { Code: not 0 })
        {
            throw new RpcException(new Status((StatusCode)status.Code, status.Message));
        }
    }

    private static Payload Zeros(int size) => new() { Body = ByteString.CopyFrom(new byte[size]) };
}
