using System.Runtime.InteropServices;
using System.Text.Json.Serialization;

namespace Rpal.Bench;

/// <summary>The machine a scenario ran on: every report states it.</summary>
internal sealed class MachineInfo
{
    [JsonPropertyName("cpu")]
    public required string Cpu { get; init; }

    [JsonPropertyName("cores")]
    public int Cores { get; init; }

    [JsonPropertyName("kernel")]
    public required string Kernel { get; init; }

    [JsonPropertyName("runtime")]
    public required string Runtime { get; init; }

    public static MachineInfo Current { get; } = Read();

    public override string ToString() => $"{Cpu}, {Cores} cores, Linux {Kernel}, {Runtime}";

    private static MachineInfo Read()
    {
        string cpu = "unknown CPU";
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null)
            {
                cpu = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
            }
        }
        catch (IOException)
        {
        }

        string kernel = "unknown";
        try
        {
            kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (IOException)
        {
        }

        return new MachineInfo
        {
            Cpu = cpu,
            Cores = Environment.ProcessorCount,
            Kernel = kernel,
            Runtime = RuntimeInformation.FrameworkDescription,
        };
    }
}
