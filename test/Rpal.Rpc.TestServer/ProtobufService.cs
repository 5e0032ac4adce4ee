using Google.Protobuf.WellKnownTypes;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.TestContracts.Messages;

namespace Rpal.Rpc.TestServer;

internal sealed class ProtobufService : IProtobufService
{
    public Order Echo(Order order) => order;

    public OrderSummary Summarize(Order order) => new()
    {
        Id = order.Id,
        ItemCount = order.Items.Sum(i => i.Quantity),
        Total = order.Items.Sum(i => i.Quantity * i.UnitPrice),
        Customer = order.Customer,
        AttachmentLength = order.Attachment.Length,
    };

    public ValueTask<Order?> EchoNullableAsync(Order? order) => new(order);

    public async Task<OrderSummary> SummarizeAfterYieldAsync(Order order, int extraItems)
    {
        await Task.Yield();
        OrderSummary summary = Summarize(order);
        summary.ItemCount += extraItems;
        return summary;
    }

    public Timestamp AddDuration(Timestamp time, Duration delta) => time + delta;

    public Struct EchoStruct(Struct value) => value;

    public StringValue? EchoStringValue(StringValue? value) => value;
}
