using System.Text;
using System.Text.RegularExpressions;
using Rpal.Bench.Plots;

namespace Rpal.Bench;

/// <summary>
/// Writes docs/performance.md from the results of a run: the scenarios' JSON and markdown files
/// and the plots in docs/performance/. The prose is the template below; the numbers, tables and
/// headlines come only from the files, so the page never claims a number the run did not produce.
/// </summary>
internal static partial class PublishPage
{
    /// <summary>What the page says about one scenario: its heading, what it measures, its plots (file, alternative text).</summary>
    private sealed record Section(string Name, string Title, string Measures, (string File, string Alt)[] Plots);

    // The order of the page. A scenario registered in Scenarios.All but not listed here still gets
    // a section, with its description from the command line's usage text.
    private static readonly Section[] s_sections =
    [
        new("seed", "The seed's experiment: one-way latency in cycles",
            """
            The experiment of the RPAL cover letter (`examples/latency`), repeated from C#: 32-byte
            messages from this process to a server thread in a child process, each timed in TSC
            cycles from the clock the client writes into the message just before sending it to the
            server's clock when its thread has the message (one way). Ping-pong, as in C: the next
            message leaves only after the previous one was acknowledged. The **floor** runs first:
            one cache line of a file both processes map, the client writing into it and the
            server's spinning thread writing back into it, its one way half a round trip (what no
            transport between these two cores can beat). The baseline, a Unix stream socket with
            the server in `epoll_wait`, runs next; Rpal, through the generated client of a
            `[RpalService]`, last. The cover letter reported 19,616 cycles for
            epoll against 1,703 for RPAL (Xeon 8336C, its kernel implementation); the numbers
            below are this repository's user-space backend on the machine stated above. Where the
            cycles above the floor go, how the C tool pairs its FLOOR and RPAL runs, and what took
            cycles off: [cycles.md](cycles.md).
            """,
            [(PlotRenderer.Seed, "Average cycles per message, epoll against Rpal")]),
        new("rtt", "Round-trip latency of a call",
            """
            One caller makes unary calls one after the other, and each call is timed from the
            moment it is made to the moment its reply is back. Each system echoes the same 8-byte
            request, all served by one server process on another core: **floor**, one cache line
            of a file both processes map, written by the client and echoed into by a server thread
            spinning on it (the physical limit of the two cores; the notes give each Rpal row's
            ratio to it); **rpal**, the .NET API (generated client stub, `RpalChannel`, `RpalServer`),
            a blocking call; **rpal-await**, the same call awaited (`ValueTask<long> EchoAsync`) in
            an async loop on the thread pool, which spins for its answer on the caller's thread;
            **rpal-await-nospin**, the same with that spin off (`SpinOnAwaitedCalls = false`): the
            completion thread delivers the answer and a thread-pool thread continues the `await`;
            **rpal-engine**, the C engine alone, without .NET, which is the floor the .NET layers
            add to; **uds-epoll**, a Unix domain socket with an `epoll` server, the kernel path
            every socket-based IPC pays; and **grpc-dotnet-uds**, grpc-dotnet over a Unix domain
            socket (HTTP/2), the framework whose programming model Rpal follows, blocking and
            awaited (**grpc-dotnet-uds-await**). The plot shows
            each system's percentiles from p50 to the slowest call; the tail (p99.9, max) is where
            scheduling, page faults and wake-ups show.
            """,
            [(PlotRenderer.LatencyDistribution, "Round-trip latency percentiles per system, log scale")]),
        new("paced", "Paced calls: latency and CPU per call at spaced loads",
            """
            The 8-byte echo of the round-trip scenario, made not back to back but a gap apart, as a
            service called now and then is called: the same systems, against the same kind of
            server process. Before each call the client sleeps until the gap has passed since the
            end of the previous one (`clock_nanosleep` to an absolute `CLOCK_MONOTONIC` time, with
            the thread's timer slack at 1 ns; a gap of 0 does not sleep), and **slept_us** is that
            time as it really was, on average. For each system and gap: **rtt_p50_us** and
            **rtt_p99_us**, the round trip; **cpu_client_us** and **cpu_server_us**, each process's
            CPU time (user and system, every thread, `CLOCK_PROCESS_CPUTIME_ID`) over the counted
            calls and their gaps, divided by the calls, the server reading its own when the client
            asks on its standard input; **cpu_total_us**, the two together; and the p50 and the
            total CPU over those of **uds-epoll** at the same gap, the baseline: a blocking `read`
            in the client and `epoll_wait` in the server, so every call of it is two wake-ups,
            whatever the gap. The rows run in rounds (`--rounds`, 4 by default): each round takes
            every gap of every system in turn, the systems in a new order each round, and a row
            pools its rounds, so that a change of the machine's speed falls on every system alike.
            The same measurement of the C engine alone, without .NET, is `rpal-latency --gap-us`
            (examples/latency), which runs its rounds the same way.

            Rpal's waiters spin before they park, and the engine decides at each wait whether to
            spin at all (its spin policy): a receiver in `rpal_epoll_wait` spins, for up to the spin
            budget (50 µs by default; `RPAL_SPIN_NS`, `RpalEngine.SpinBudget`), only when its
            previous wait ended within the budget, and otherwise parks at once; a caller waiting
            for its reply spins only when the last reply from an awake server came within the
            budget, and not at all when its request found the server's receiver parked (the reply
            is then a wake-up away); every 32nd wait that would not spin spins all the same, so
            that a peer that became fast is noticed. A spinning wait costs CPU for as long as it
            spins; a parked one costs a wake-up. The CPU columns show which of the two each gap
            gets, and for **rpal-engine** a note gives the engine's own counts: the client's waits
            that parked, and the calls whose request woke the server's parked receiver. Both
            processes host every system at once, so each row also carries what the idle ones cost
            (timers, watchdogs); a note gives that floor per millisecond, which counts at the
            longest gaps.
            """,
            [(PlotRenderer.PacedLatency, "Round-trip p50 against the gap between calls, per system, log scale"),
             (PlotRenderer.PacedCpu, "CPU time per call of client and server together against the gap between calls, per system, log scale")]),
        new("size", "Latency by message size",
            """
            The p50 latency of a call as its message grows, beside the time a plain `memcpy` of the
            same number of bytes takes on the same machine. Rpal passes payloads through memory
            the peer maps read-only, so a message costs one copy, not the two of a socket; the
            `memcpy` row is that copy alone, the floor for any design that copies once. Where the
            two curves meet, the cost of a call is the cost of moving its bytes. The server's
            handler (`int Length(ReadOnlyMemory<byte>)`) gets a view of the caller's memory and
            reads only its last byte: the time measured is the caller's copy into shared memory
            plus the call, not a second pass over the data on the server. The `rpal-inline` row is
            the same channel's call without a payload (`long Echo(long)`, its argument inline in the
            message), measured in the same run: a note gives each small payload's p50 over it, what
            the arena (allocate, lend, release) adds to a call.
            """,
            [(PlotRenderer.LatencyBySize, "p50 latency against message size, Rpal and memcpy, log-log")]),
        new("throughput", "Throughput with concurrent callers",
            """
            Calls completed per second as client threads are added, each thread making calls back
            to back. It shows whether the call rings and the receiver threads scale with callers,
            or whether callers queue behind one another.
            """,
            []),
        new("stream", "Server streaming",
            """
            A server-streaming method (`IAsyncEnumerable<long> Count(long count)`) read with `await
            foreach` on the thread pool, over Rpal and over grpc-dotnet on a Unix socket, against
            one server process: **elements_per_s** for one long stream (flow-controlled, 64
            elements ahead), and the round trip of a one-element stream (the call, its element,
            its end: **one_element_p50_ns**, **one_element_p99_ns**). A reader that finds no
            element spins for the next one on its own thread, taking the connection's messages
            itself, before it leaves the wait to the completion thread (docs/threading.md).
            """,
            []),
        new("idle", "Idle cost and wake-up",
            """
            What a server costs when nobody calls, and what the first call after a pause costs. A
            receiver spins for a bounded budget and then parks. A server with default options is
            left alone after one call (10 s; 1 s in a quick run) and its CPU time is read from
            `/proc/PID/stat` before and after: **idle_cpu_percent** is the share of one core it
            used, against a target of 1%. Then calls are made each after a 100 ms pause, long
            enough for the receiver to have parked: **wake_call_p50_us** and **wake_call_max_us**
            are their round trips, the wake-up path. Spinning is the fast path; parking is what
            keeps an idle service from burning a core, and this is its price.
            """,
            []),
    ];

    private const string Template =
        """
        # Performance

        <!-- Generated by `dotnet run -c Release --project bench/Rpal.Bench -- publish`: edit the
             template in bench/Rpal.Bench/PublishPage.cs, not this file. -->

        How fast a cross-process call through Rpal is, measured on one machine against the
        baselines a reader would otherwise use: a Unix socket with `epoll`, grpc-dotnet over a Unix
        socket, and a plain `memcpy`. Every number on this page comes from one run of the
        benchmark suite in `bench/Rpal.Bench`; each baseline ran in the same run, on the same
        machine, so the ratios between them are the result, more than any absolute number.

        {{run}}

        ## Headlines

        {{headlines}}

        ## Machine

        {{machine}}

        ## Method

        - **Two processes, pinned.** Each scenario starts its server as a child process (the bench
          program started again as the server) and calls it from the first, so every call
          crosses a real process boundary. Where the machine has two cores or more, the
          client side is pinned to core 0 and the server side to core 1 (`sched_setaffinity`):
          the numbers are cross-core, the case that matters for a service on its own threads, and
          the scheduler cannot move either side mid-run.
        - **Warm-up first.** Each system is exercised before it is timed, so that code is compiled
          at its final tier, connections and rings are set up, and caches and page tables are warm.
          Tiered PGO is off in the bench project, so the JIT does not recompile hot code while it
          is timed.
        - **Every call timed, percentiles reported.** Latencies are recorded one by one into an
          HdrHistogram (nanoseconds, or TSC cycles for the seed's experiment) and reported as
          percentiles: p50 is the typical call, p99 and p99.9 the tail, max the worst single call.
          Averages are given only where the published experiment used them.
        - **Ratios against a baseline of the same run.** A number from another machine, kernel or
          day is not comparable; the notes under each table compare systems measured side by side.
        - **Quick runs are smoke tests.** `--quick` runs every scenario with few iterations to
          check that it works; its numbers are not timing claims.

        To reproduce this page (it rewrites `docs/performance.md` and `docs/performance/`):

            dotnet run -c Release --project bench/Rpal.Bench -- publish

        One scenario alone, or the plots from JSON files you already have:

            dotnet run -c Release --project bench/Rpal.Bench -- rtt --json rtt.json
            dotnet run -c Release --project bench/Rpal.Bench -- plot --in DIR --out DIR

        The raw results of each scenario are in `docs/performance/NAME.json`, beside its table in
        `docs/performance/NAME.md`.

        The soak is a check rather than a timing, and not part of this page's run: one server
        process and 8 client processes make 10,000,000 calls between them (half Ping, 12 bytes
        inline; half Echo, whose payload travels in the sender's arena: 0 to 1 KiB, and 4 to 64 KiB
        for one call in 64; half blocking, half awaited, 4 in flight per client), each carrying its
        client, its sequence number and a payload derived from both. The server records every
        (client, sequence number) it sees in a bitset; the run fails if a call is lost, seen twice
        or answered with another call's reply, or if the server's resident memory grows by 5% or
        more from the end of the warm-up (the first 10% of the calls) to the end. `--quick` (8 x 2,500 calls, in CI) checks the calls and
        reports the memory growth without enforcing it.

            dotnet run -c Release --project bench/Rpal.Bench -- soak [--clients 8] [--calls 10000000] [--in-flight 4] [--spin-us 5] [--json soak.json]

        {{sections}}
        """;

    /// <summary>
    /// Writes the page to <paramref name="pagePath"/> from the files in <paramref name="resultDirectory"/>
    /// (a folder beside the page). <paramref name="failed"/> names the scenarios that failed in this run.
    /// </summary>
    public static void Write(string pagePath, string resultDirectory, IEnumerable<IScenario> registered,
        IReadOnlyCollection<string> failed)
    {
        string relative = Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(pagePath))!, resultDirectory).Replace('\\', '/');
        List<Section> sections = [.. s_sections];
        sections.AddRange(registered
            .Where(s => !s_sections.Any(k => k.Name == s.Name))
            .Select(s => new Section(s.Name, s.Name, s.Description + ".", [])));

        var reports = new Dictionary<string, ScenarioReport>();
        foreach (Section section in sections)
        {
            if (ResultFile.TryLoad(resultDirectory, section.Name, out _) is { } report)
            {
                reports[section.Name] = report;
            }
        }

        List<MachineInfo> machines = [.. reports.Values.Select(r => r.Machine).DistinctBy(m => m.ToString())];
        string machine = machines.Count switch
        {
            0 => "No scenario produced results, so no machine is stated.",
            1 => $"{machines[0]}.",
            _ => "The scenarios ran on different machines; each table states its own:\n\n"
                 + string.Join('\n', machines.Select(m => $"- {m}")),
        };

        string page = Template
            .Replace("{{run}}", RunLine(reports.Values, failed), StringComparison.Ordinal)
            .Replace("{{headlines}}", Headlines(sections, reports), StringComparison.Ordinal)
            .Replace("{{machine}}", machine, StringComparison.Ordinal)
            .Replace("{{sections}}", string.Join("\n", sections.Select(s =>
                SectionText(s, reports.GetValueOrDefault(s.Name), resultDirectory, relative, machines.Count == 1 ? machines[0] : null, failed))),
                StringComparison.Ordinal);
        File.WriteAllText(pagePath, BlankLines().Replace(page, "\n\n").TrimEnd() + "\n");
    }

    private static string RunLine(IEnumerable<ScenarioReport> reports, IReadOnlyCollection<string> failed)
    {
        var sb = new StringBuilder();
        if (reports.Any(r => r.Quick))
        {
            sb.Append("> **These results are from a `--quick` run**, a smoke test with few iterations: they show that every scenario runs, not how fast. Run `publish` without `--quick` for numbers to quote.\n");
        }

        if (failed.Count > 0)
        {
            if (sb.Length > 0)
            {
                sb.Append(">\n");
            }

            sb.Append("> Scenarios that failed in this run, and so have no results below: ")
              .Append(string.Join(", ", failed.Select(f => $"`{f}`"))).Append('.').Append('\n');
        }

        return sb.ToString().TrimEnd();
    }

    /// <summary>
    /// The headline of each scenario: its notes that state a ratio ("8.4x", "11 times", "faster"),
    /// or its first note when none does.
    /// </summary>
    private static string Headlines(IEnumerable<Section> sections, Dictionary<string, ScenarioReport> reports)
    {
        var lines = new List<string>();
        foreach (Section section in sections)
        {
            if (!reports.TryGetValue(section.Name, out ScenarioReport? report) || report.Notes.Count == 0)
            {
                continue;
            }

            List<string> ratios = [.. report.Notes.Where(n => RatioPattern().IsMatch(n))];
            foreach (string note in ratios.Count > 0 ? ratios : report.Notes.Take(1))
            {
                lines.Add($"- **{section.Name}**: {note.Trim()}");
            }
        }

        return lines.Count > 0 ? string.Join('\n', lines) : "No scenario stated a ratio in this run.";
    }

    private static string SectionText(Section section, ScenarioReport? report, string resultDirectory, string relative,
        MachineInfo? pageMachine, IReadOnlyCollection<string> failed)
    {
        var sb = new StringBuilder();
        sb.Append("## ").Append(section.Title).Append("\n\n");
        sb.Append(section.Measures.Trim()).Append("\n\n");
        if (report is null)
        {
            sb.Append(failed.Contains(section.Name)
                ? "_This scenario failed in this run; see the run's output._\n"
                : "_No results: this scenario did not run for this page (publish --no-run finds no results of it, or it is not registered in this build of the bench)._\n");
            return sb.ToString();
        }

        string markdownPath = Path.Combine(resultDirectory, section.Name + ".md");
        string table = File.Exists(markdownPath) ? File.ReadAllText(markdownPath) : ReportWriter.Markdown(report);
        sb.Append(Table(table, pageMachine)).Append("\n\n");
        foreach ((string file, string alt) in section.Plots.Where(p => File.Exists(Path.Combine(resultDirectory, p.File))))
        {
            sb.Append("![").Append(alt).Append("](").Append(relative).Append('/').Append(file).Append(")\n\n");
        }

        // A reading of these numbers, written by hand for this run (publish removes it with the results it read).
        string readingPath = ReadingPath(resultDirectory, section.Name);
        if (File.Exists(readingPath))
        {
            sb.Append(File.ReadAllText(readingPath).Trim()).Append("\n\n");
        }

        sb.Append("Run alone: `dotnet run -c Release --project bench/Rpal.Bench -- ").Append(section.Name)
          .Append("`. Raw results: [`").Append(section.Name).Append(".json`](").Append(relative).Append('/').Append(section.Name).Append(".json).\n");
        return sb.ToString();
    }

    /// <summary>
    /// The hand-written reading of scenario <paramref name="name"/>'s results, if any: markdown the
    /// page puts under the scenario's table and plots. It speaks of one run's numbers, so a
    /// publish run that measures again removes it with them (<see cref="PublishCommand"/>).
    /// </summary>
    public static string ReadingPath(string resultDirectory, string name) => Path.Combine(resultDirectory, name + ".reading.md");

    /// <summary>
    /// A scenario's markdown as <see cref="ReportWriter.Markdown"/> wrote it, less its heading (the
    /// section has one) and its machine line when the page already states that machine.
    /// </summary>
    private static string Table(string markdown, MachineInfo? pageMachine)
    {
        IEnumerable<string> lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n')
            .Where(l => !l.StartsWith("### ", StringComparison.Ordinal))
            .Where(l => pageMachine is null || l != $"Machine: {pageMachine}");
        return string.Join('\n', lines).Trim();
    }

    [GeneratedRegex(@"\d\s*(x|×)(?![a-z])|\btimes\b|\bratio\b|\bfaster\b|\bslower\b|\bfewer\b|\blower\b", RegexOptions.IgnoreCase)]
    private static partial Regex RatioPattern();

    // An empty placeholder ({{run}} when the run was full and nothing failed) leaves a gap.
    [GeneratedRegex(@"\n{3,}")]
    private static partial Regex BlankLines();
}
