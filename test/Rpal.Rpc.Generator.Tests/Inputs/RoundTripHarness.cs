// Drives the generated client against the generated dispatcher through the loopback transport
// (LoopbackContract.cs): every method of ISampleService, its results compared with what the
// implementation computes. Throws on the first mismatch. Streaming methods are only looked up
// (their call shapes): the loopback does not carry streams, which are tested across processes.
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Rpal.Rpc.Generated;

namespace Demo.Sample;

public static class RoundTripHarness
{
    public static async Task RunAsync()
    {
        RpalServiceDescriptor<ISampleService> descriptor = RpalServiceRegistry.Get<ISampleService>();
        Check(descriptor.ServiceName == "demo.sample", "the descriptor's name");
        Check(descriptor.Methods.Count == 25, $"25 methods, not {descriptor.Methods.Count}");
        Check(descriptor.Methods.Select(m => m.Id).Distinct().Count() == 25, "distinct method ids");
        Check(descriptor.Methods.All(m => m.FullName == "/demo.sample/" + m.Name), "full names");
        string streaming = string.Join(", ", descriptor.Methods.Where(m => m.Type != MethodType.Unary).Select(m => $"{m.Name} {m.Type}"));
        const string expectedStreaming = "Range ServerStreaming, Ticks ServerStreaming, ReadChunks ServerStreaming, "
            + "SumAsync ClientStreaming, UploadAsync ClientStreaming, AppendAsync ClientStreaming, WaitAllAsync ClientStreaming, "
            + "Chat DuplexStreaming, Shift DuplexStreaming";
        Check(streaming == expectedStreaming, $"the streaming methods '{streaming}'");

        var implementation = new SampleServiceImplementation();
        var invoker = new RpalClientInvoker(descriptor.CreateDispatcher(implementation));
        ISampleService client = descriptor.CreateClient(invoker);

        Check(client.Ping() == 7, "Ping");
        Check(client.Add(2, 3) == 5, "Add(int, int)");
        Check(client.Add(2L, 3L) == 1_000_000_000_005, "Add(long, long)");
        Check(client.AddThree(1) == 4, "AddThree runs locally on top of Add");

        client.Log("hello, wörld");
        client.Shutdown();

        var point = new Point3 { X = 1.5, Y = -2, Z = 1e300 };
        Check(client.Describe(Color.Blue, point, 42, (3, 14)) == implementation.Describe(Color.Blue, point, 42, (3, 14)), "Describe");
        Check(client.Describe(Color.Red, point, -1, (0, 0)) is null, "Describe returning null");

        byte[] bytes = [1, 2, 3, 250];
        Check((await client.EchoBytesAsync(bytes, CancellationToken.None)).SequenceEqual(new byte[] { 250, 3, 2, 1 }), "EchoBytesAsync");
        Check((await client.EchoBytesAsync([], CancellationToken.None)).Length == 0, "EchoBytesAsync of nothing");
        Check((await client.EchoMemoryAsync(bytes)).ToArray().SequenceEqual(new byte[] { 1, 2, 3, 250, 1, 2, 3, 250 }), "EchoMemoryAsync");
        Check((await client.ScaleAsync([1, -2, long.MaxValue / 3], 3)).SequenceEqual(new long[] { 3, -6, long.MaxValue / 3 * 3 }), "ScaleAsync");

        var time = Timestamp.FromDateTime(new DateTime(2024, 2, 29, 12, 0, 0, DateTimeKind.Utc));
        Timestamp later = await client.AddAsync(time, Duration.FromTimeSpan(TimeSpan.FromHours(13)));
        Check(later.ToDateTime() == new DateTime(2024, 3, 1, 1, 0, 0, DateTimeKind.Utc), "AddAsync");
        Check((await client.AddAsync(time, null)).Equals(time), "AddAsync with a null message");

        await client.ResetAsync(CancellationToken.None);
        var id = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        await client.NotifyAsync(null, null, id);
        await client.NotifyAsync("n", [9, 9], id);
        Check(client.Greet("a", "b", new DateTime(2001, 2, 3)) == "a b 2001-02-03", "Greet");

        // ReadOnlySpan<byte> parameters: the request is a ref struct, encoded before the call returns.
        Check(client.Checksum([1, 2, 3, 250], 10) == 266, "Checksum");
        Check(client.Checksum([], 5) == 5, "Checksum of nothing");
        byte[] large = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        Check(client.Checksum(large, 0) == implementation.Checksum(large, 0), "Checksum of 1000 bytes");
        Check(await client.CountAsync(new byte[] { 3, 1, 3, 3 }, 3, CancellationToken.None) == 3, "CountAsync");
        await client.StoreAsync("k", bytes);
        Check(implementation.Stored == "k 010203FA", $"StoreAsync stored '{implementation.Stored}'");

        string log = string.Join("|", implementation.Log);
        string expected = $"hello, wörld|shutdown|reset|notify <null> <null> {id}|notify n 2 {id}";
        Check(log == expected, $"the server's log '{log}', expected '{expected}'");

        // A token that is already cancelled reaches the implementation as call.CancellationToken.
        try
        {
            await client.EchoBytesAsync(bytes, new CancellationToken(canceled: true));
            throw new InvalidOperationException("EchoBytesAsync ignored its cancelled token");
        }
        catch (OperationCanceledException)
        {
        }

        // An id the service does not have is answered as unimplemented.
        var unknown = new RpalMethod("demo.sample", "Missing", 0xDEADBEEF);
        try
        {
            invoker.Call<RpalVoid, RpalVoid, RpalVoid>(unknown, default);
            throw new InvalidOperationException("an unknown method id was served");
        }
        catch (RpalUnimplementedException e) when (e.MethodId == 0xDEADBEEF)
        {
        }
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException("Round trip failed: " + what);
        }
    }
}
