using Google.Protobuf.WellKnownTypes;
using Rpal.Rpc.TestContracts.Messages;

namespace Rpal.Rpc.TestContracts;

/// <summary>Protobuf messages as arguments and results, generated (orders.proto) and well-known.</summary>
[RpalService(ServiceNames.Protobuf)]
public interface IProtobufService
{
    Order Echo(Order order);

    OrderSummary Summarize(Order order);

    ValueTask<Order?> EchoNullableAsync(Order? order);

    Task<OrderSummary> SummarizeAfterYieldAsync(Order order, int extraItems);

    Timestamp AddDuration(Timestamp time, Duration delta);

    Struct EchoStruct(Struct value);

    StringValue? EchoStringValue(StringValue? value);
}
