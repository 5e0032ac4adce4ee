using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Rpal.Rpc.TestContracts;
using Rpal.Rpc.TestContracts.Messages;
using Rpal.Rpc.Tests.Infrastructure;
using Xunit;

namespace Rpal.Rpc.Tests;

/// <summary>Protobuf messages, generated from a .proto file and well-known, as arguments and results.</summary>
[Collection(SharedServerDefinition.Name)]
public sealed class ProtobufTests(SharedServerFixture fixture)
{
    private readonly IProtobufService _client = fixture.Client<IProtobufService>();

    [Fact]
    public void AMessage_RoundTrips()
    {
        Order order = MakeOrder(items: 3, attachment: 1024);
        Order echoed = _client.Echo(order);
        Assert.Equal(order, echoed);
        Assert.Equal(Order.PaymentOneofCase.Card, echoed.PaymentCase);
    }

    [Fact]
    public void TheServer_ParsesTheMessage()
    {
        Order order = MakeOrder(items: 4, attachment: 10);
        OrderSummary summary = _client.Summarize(order);
        Assert.Equal(order.Id, summary.Id);
        Assert.Equal(1 + 2 + 3 + 4, summary.ItemCount);
        Assert.Equal(order.Items.Sum(i => i.Quantity * i.UnitPrice), summary.Total);
        Assert.Equal("Zoë Ångström", summary.Customer);
        Assert.Equal(10, summary.AttachmentLength);
    }

    [Fact]
    public async Task AnAsyncHandler_AnswersAMessage()
    {
        OrderSummary summary = await _client.SummarizeAfterYieldAsync(MakeOrder(items: 2, attachment: 0), extraItems: 100);
        Assert.Equal(1 + 2 + 100, summary.ItemCount);
    }

    [Fact]
    public async Task EmptyAndNullMessages_RoundTrip()
    {
        Assert.Equal(new Order(), _client.Echo(new Order()));
        Assert.Null(await _client.EchoNullableAsync(null));
        Order order = MakeOrder(items: 1, attachment: 0);
        order.Invoice = "INV-7";
        Order? echoed = await _client.EchoNullableAsync(order);
        Assert.Equal(order, echoed);
        Assert.Equal(Order.PaymentOneofCase.Invoice, echoed!.PaymentCase);
    }

    [Fact]
    public void ALargeMessage_RoundTrips()
    {
        Order order = MakeOrder(items: 20_000, attachment: 4 << 20);
        Assert.Equal(order, _client.Echo(order));
    }

    [Fact]
    public void WellKnownTypes_RoundTrip()
    {
        var time = Timestamp.FromDateTime(new DateTime(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        Assert.Equal(time + Duration.FromTimeSpan(TimeSpan.FromMinutes(90)), _client.AddDuration(time, Duration.FromTimeSpan(TimeSpan.FromMinutes(90))));

        var value = new Struct
        {
            Fields =
            {
                ["name"] = Value.ForString("ünïcode"),
                ["count"] = Value.ForNumber(42),
                ["flags"] = Value.ForList(Value.ForBool(true), Value.ForNull()),
                ["nested"] = Value.ForStruct(new Struct { Fields = { ["deep"] = Value.ForNumber(-1.5) } }),
            },
        };
        Assert.Equal(value, _client.EchoStruct(value));
        Assert.Null(_client.EchoStringValue(null));
        Assert.Equal("héllo", _client.EchoStringValue(new StringValue { Value = "héllo" })?.Value);
    }

    private static Order MakeOrder(int items, int attachment)
    {
        byte[] bytes = new byte[attachment];
        new Random(attachment).NextBytes(bytes);
        var order = new Order
        {
            Id = 1234567890123,
            Customer = "Zoë Ångström",
            Placed = Timestamp.FromDateTime(new DateTime(2025, 6, 7, 8, 9, 10, DateTimeKind.Utc)),
            Attachment = ByteString.CopyFrom(bytes),
            State = OrderState.Shipped,
            Card = "4111-1111",
            Tags = { ["priority"] = "high", ["région"] = "Île-de-France" },
        };
        for (int i = 1; i <= items; i++)
        {
            order.Items.Add(new LineItem { Sku = $"SKU-{i}", Quantity = i, UnitPrice = i * 1.25 });
        }

        return order;
    }
}
