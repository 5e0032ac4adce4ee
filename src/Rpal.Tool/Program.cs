// rpal: the command-line tool of Rpal.
//
//   rpal list [--runtime-dir DIR]
//   rpal ping NAME [--count N] [--runtime-dir DIR]
//   rpal stats NAME [--runtime-dir DIR]
//   rpal bench SCENARIO [ARGS...]
//
// Exit codes: 0 done, 1 failed, 2 bad command line, 3 no such service (or not reachable).

using Rpal.Tool;

try
{
    return args switch
    {
        ["list", .. var rest] => Commands.List(Options.Parse(rest, positional: 0)),
        ["ping", .. var rest] => Commands.Ping(Options.Parse(rest, positional: 1)),
        ["stats", .. var rest] => Commands.Stats(Options.Parse(rest, positional: 1)),
        ["bench", .. var rest] => Commands.Bench(rest),
        ["-h" or "--help" or "help"] => Usage(0),
        _ => Usage(2),
    };
}
catch (UsageException e)
{
    Console.Error.WriteLine($"rpal: {e.Message}");
    return Usage(2);
}
catch (ToolException e)
{
    Console.Error.WriteLine($"rpal: {e.Message}");
    return e.ExitCode;
}

static int Usage(int code)
{
    (code == 0 ? Console.Out : Console.Error).WriteLine(
        """
        usage: rpal list [--runtime-dir DIR]
               rpal ping NAME [--count N] [--runtime-dir DIR]
               rpal stats NAME [--runtime-dir DIR]
               rpal bench SCENARIO [ARGS...]   (rpal bench --help lists the scenarios)
        The runtime directory is the engine's: RPAL_RUNTIME_DIR, else /tmp/rpal-gGID with RPAL_RUNTIME_GROUP, else $XDG_RUNTIME_DIR/rpal, else /tmp/rpal-UID.
        Exit codes: 0 done, 1 failed, 2 bad command line, 3 no such service.
        """);
    return code;
}
