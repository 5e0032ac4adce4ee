using Grpc.Core;
using Rpal.Rpc.Generated;

namespace Rpal.Rpc.GrpcInterop;

/// <summary>
/// Rpal bodies as gRPC messages: a generated method's request, response or stream element is
/// carried as exactly the bytes the Rpal wire format gives it (docs/wire.md, "Bodies"), so one
/// generated contract runs over both transports.
/// </summary>
internal static class GrpcBodies
{
    /// <summary>Passes the bytes through (grpc-dotnet frames them).</summary>
    public static readonly Marshaller<byte[]> Marshaller = Marshallers.Create<byte[]>(static value => value, static bytes => bytes);

    /// <summary>A body's bytes.</summary>
    public static byte[] ToBytes<T>(in T body)
        where T : struct, IRpalPayload<T>, allows ref struct
    {
        byte[] bytes = new byte[body.GetSize()];
        scoped T copy = body; // the writer and a ref-struct body in one scope, as in RpalClientInvoker.Encode
        scoped var writer = new RpalWriter(bytes);
        copy.Write(ref writer);
        return bytes;
    }

    /// <summary>Reads a value from a body's bytes; a malformed body is Internal, as over Rpal.</summary>
    public static TValue Read<TBody, TValue>(byte[] bytes, RpalMethod method)
        where TBody : struct, IRpalResponse<TBody, TValue>
    {
        try
        {
            var reader = new RpalReader(bytes);
            return TBody.Read(ref reader).Value;
        }
        catch (RpalDecodeException e)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"{method.FullName}: {e.Message}", e));
        }
    }

    /// <summary>
    /// The gRPC methods of a service: each named after its interface method, with the method id
    /// appended (<c>Add_499D9609</c>) where overloads share a name.
    /// </summary>
    public static Dictionary<RpalMethod, Method<byte[], byte[]>> MethodsOf(RpalServiceDescriptor descriptor)
    {
        var result = new Dictionary<RpalMethod, Method<byte[], byte[]>>();
        foreach (RpalMethod m in descriptor.Methods)
        {
            bool overloaded = descriptor.Methods.Count(o => o.Name == m.Name) > 1;
            string name = overloaded ? $"{m.Name}_{m.Id:X8}" : m.Name;
            result[m] = new Method<byte[], byte[]>(m.Type, descriptor.ServiceName, name, Marshaller, Marshaller);
        }

        return result;
    }
}
