using System.Globalization;

namespace Rpal.Tool;

/// <summary>A bad command line: the usage follows, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>A command that could not do its work: the message, then <see cref="ExitCode"/>.</summary>
internal sealed class ToolException(string message, int exitCode) : Exception(message)
{
    public const int Failed = 1;
    public const int NoSuchService = 3;

    public int ExitCode { get; } = exitCode;
}

/// <summary>The options of list, ping and stats; <see cref="RuntimeDirectory"/> is null for the engine's choice.</summary>
internal sealed record Options(string? Name, string? RuntimeDirectory, int Count)
{
    public static Options Parse(string[] args, int positional)
    {
        string? name = null, dir = null;
        int count = 1000;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--runtime-dir":
                    dir = Value(args, ref i);
                    break;
                case "--count":
                    if (!int.TryParse(Value(args, ref i), NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1)
                    {
                        throw new UsageException("--count takes a whole number, 1 or more");
                    }

                    break;
                default:
                    if (args[i].StartsWith('-') || name is not null || positional == 0)
                    {
                        throw new UsageException($"unexpected '{args[i]}'");
                    }

                    name = args[i];
                    break;
            }
        }

        if (positional == 1 && name is null)
        {
            throw new UsageException("which service? (rpal list shows them)");
        }

        return new Options(name, dir, count);
    }

    private static string Value(string[] args, ref int i) =>
        ++i < args.Length ? args[i] : throw new UsageException($"{args[i - 1]} needs a value");
}
