using Grpc.Core;
using Rpal.Rpc.Generated;

namespace Rpal.Rpc.Wire;

/// <summary>
/// Request headers and response trailers (docs/wire.md, "Metadata"), in a request's or reply's
/// payload: a 32-bit entry count, then per entry the key (string), one byte (1 = binary) and the
/// value (string, or bytes for a binary key, whose name ends in "-bin").
/// </summary>
internal static class MetadataCodec
{
    private const int MaxEntries = 4096;

    public static int SizeOf(Metadata? metadata)
    {
        if (metadata is null || metadata.Count == 0)
        {
            return 0;
        }

        int size = 4;
        foreach (Metadata.Entry e in metadata)
        {
            size += RpalWriter.SizeOf(e.Key) + 1 + (e.IsBinary ? RpalWriter.SizeOf(e.ValueBytes) : RpalWriter.SizeOf(e.Value));
        }

        return size;
    }

    public static void Write(ref RpalWriter writer, Metadata metadata)
    {
        writer.Write(metadata.Count);
        foreach (Metadata.Entry e in metadata)
        {
            writer.Write(e.Key);
            writer.Write((byte)(e.IsBinary ? 1 : 0));
            if (e.IsBinary)
            {
                writer.Write(e.ValueBytes);
            }
            else
            {
                writer.Write(e.Value);
            }
        }
    }

    public static Metadata Read(ref RpalReader reader)
    {
        int count = reader.Read<int>();
        if (count < 0 || count > MaxEntries)
        {
            throw new RpalDecodeException($"metadata with {count} entries");
        }

        var metadata = new Metadata();
        for (int i = 0; i < count; i++)
        {
            string key = reader.ReadString() ?? throw new RpalDecodeException("a metadata entry without a key");
            byte kind = reader.Read<byte>();
            if (kind > 1)
            {
                throw new RpalDecodeException($"metadata entry '{key}' of kind {kind} (0 text, 1 binary)");
            }

            bool binary = kind == 1;
            try
            {
                if (binary)
                {
                    metadata.Add(key, reader.ReadByteArray() ?? []);
                }
                else
                {
                    metadata.Add(key, reader.ReadString() ?? string.Empty);
                }
            }
            catch (ArgumentException e)
            {
                throw new RpalDecodeException($"an invalid metadata entry '{key}': {e.Message}", e);
            }
        }

        return metadata;
    }
}
