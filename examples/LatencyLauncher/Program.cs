// Launcher for the seed's experiment, which is a C program (examples/latency): it finds
// artifacts/native/release/bin/rpal-latency in this checkout, runs it with this program's
// arguments and the same terminal, and exits with its exit code. It measures nothing itself.
//
//   dotnet run --project examples/LatencyLauncher -- --messages 200000

using System.Diagnostics;

string? root = AppContext.BaseDirectory;
while (root is not null && !File.Exists(Path.Combine(root, "Rpal.sln")))
{
    root = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar));
}

if (root is null)
{
    Console.Error.WriteLine($"Latency: Rpal.sln not found above {AppContext.BaseDirectory}.");
    return 1;
}

string program = Path.Combine(root, "artifacts", "native", "release", "bin", "rpal-latency");
if (!File.Exists(program))
{
    Console.Error.WriteLine(
        $"Latency: {program} does not exist. It is built with Rpal.Runtime (native/librpal/Native.targets); "
        + "was the build run with RpalNativeSkip=true or without the release flavor?");
    return 1;
}

var startInfo = new ProcessStartInfo(program) { UseShellExecute = false };
foreach (string arg in args)
{
    startInfo.ArgumentList.Add(arg);
}

using Process process = Process.Start(startInfo)!;
process.WaitForExit();
return process.ExitCode;
