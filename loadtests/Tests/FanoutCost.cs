using Tcm.LoadTests.Harness.Cpu;

namespace Tcm.LoadTests.Tests;

/// <summary>
/// What a run's fan-outs cost in CPU: every server process (the Notification Server or the bare server, the gateway, the
/// Task Server) and the load generator are read at the start and the end of the measured phase (<see cref="ProcessCpu"/>),
/// and their CPU time is divided by the tasks the agents received and the results the server stored. Thread-safe counters.
/// A relay (the CEM gateway, or the baseline's bare relay on the gateway route) is also divided by the messages it relayed: every
/// data message the agents received and sent over their channels (<see cref="IChannelMessages"/>), counted the same way for both.
/// </summary>
/// <remarks>
/// Sharded, every shard reads the one shared server over its own phase and divides by its own tasks times the number of
/// shards (its share of them), so the shards' mean is the server's cost per task of the whole fleet.
/// </remarks>
internal sealed class FanoutCost
{
    private long _delivered;
    private long _results;
    private IReadOnlyList<(string Role, int Pid, TimeSpan? Cpu)> _start = [];
    private IChannelMessages? _messages;
    private long _messagesAtStart;

    /// <summary>An agent received a pushed task (or message).</summary>
    public void OnDelivered() => Interlocked.Increment(ref _delivered);

    /// <summary>The server stored <paramref name="count"/> results (echoes).</summary>
    public void OnResults(int count) => Interlocked.Add(ref _results, count);

    /// <summary>The start of the measured phase: finds the server processes, reads their CPU time and the load generator's, and sets the counters to zero.</summary>
    public async Task StartAsync(ILoadTarget target, GaugeSet gauges, CancellationToken cancellationToken)
    {
        var server = await target.MeasureAsync(false, cancellationToken).ConfigureAwait(false);
        _start = Processes(server).Select(p => (p.Role, p.Pid, Read(p.Role, p.Pid))).ToList();
        Interlocked.Exchange(ref _delivered, 0);
        Interlocked.Exchange(ref _results, 0);
        _messages = target as IChannelMessages;
        _messagesAtStart = _messages?.ChannelMessages ?? 0;
        if (ProcessCpu.LoadAverage() is { } load)
        {
            gauges.Set("load-average-start", load, "", GaugeMerge.Max, "machine load average (1 min) when the fan-outs started");
        }
    }

    /// <summary>
    /// The end of the measured phase: the CPU time each process used since <see cref="StartAsync"/>, per task and per result. A
    /// Notification Server of several nodes has each node's figures (<c>node1-cpu-per-task</c>, ...) and their sum as the server's;
    /// PostgreSQL's (the postmaster and its backends) is reported beside it, and with the nodes as <c>ns-and-postgres-cpu-per-task</c>.
    /// </summary>
    public void Stop(GaugeSet gauges, string variant, int shards)
    {
        var delivered = Interlocked.Read(ref _delivered) * (double)Math.Max(1, shards);
        var results = Interlocked.Read(ref _results) * (double)Math.Max(1, shards);
        var relayed = _messages is null ? 0 : (_messages.ChannelMessages - _messagesAtStart) * (double)Math.Max(1, shards);
        var used = new List<(string Role, double CpuMs)>();
        foreach (var (role, pid, start) in _start)
        {
            if (start is not null && Read(role, pid) is { } end)
            {
                used.Add((role, (end - start.Value).TotalMilliseconds));
            }
        }

        var nodes = used.Where(u => NodeNumber(u.Role) is not null).ToList();
        if (nodes.Count > 0)
        {
            used.Add(("server", nodes.Sum(n => n.CpuMs)));
        }

        foreach (var (role, cpuMs) in used)
        {
            if (role == "client")
            {
                if (delivered > 0)
                {
                    gauges.Set("client-cpu-per-agent-task", 1000 * cpuMs * shards / delivered, "us", GaugeMerge.Mean, "load generator CPU (user + system) per agent-task: a push received and answered by one agent");
                }

                continue;
            }

            var what = Describe(role, variant, nodes.Count);
            gauges.Set($"{role}-cpu", cpuMs, "ms", GaugeMerge.Max, $"{what} CPU time (user + system, /proc) over the fan-outs");
            if (delivered > 0)
            {
                gauges.Set($"{role}-cpu-per-task", 1000 * cpuMs / delivered, "us", GaugeMerge.Mean, (variant, role) switch
                {
                    ("baseline", "server") => "bare server CPU per echo: one message sent to an agent and echoed back",
                    (_, "relay") => "bare relay CPU per echo relayed: the message to the agent and its echo back",
                    _ => $"{what} CPU per delivered task",
                });
            }

            if (role is "gateway" or "relay" && relayed > 0)
            {
                gauges.Set($"{role}-cpu-per-relayed-message", 1000 * cpuMs / relayed, "us", GaugeMerge.Mean,
                    $"{what} CPU per relayed message: each data message the agents received or sent over their channels");
                if (delivered > 0)
                {
                    gauges.Set("relayed-messages-per-task", relayed / delivered, "", GaugeMerge.Mean,
                        $"data messages relayed per delivered task ({(role == "relay" ? "the push and its echo" : "the task, its result, acknowledgements and whatever else the channels carried")})");
                }
            }

            if (role == "server" && results > 0)
            {
                gauges.Set("server-cpu-per-result", 1000 * cpuMs / results, "us", GaugeMerge.Mean, variant == "baseline"
                    ? "bare server CPU per echo received"
                    : $"{what} CPU per stored result");
            }
        }

        if (delivered > 0 && used.Any(u => u.Role == "postgres"))
        {
            var deployment = used.Where(u => u.Role is "server" or "postgres").Sum(u => u.CpuMs);
            gauges.Set("ns-and-postgres-cpu-per-task", 1000 * deployment / delivered, "us", GaugeMerge.Mean,
                "Notification Server (every node) and PostgreSQL together: CPU per delivered task");
        }

        if (ProcessCpu.LoadAverage() is { } load)
        {
            gauges.Set("load-average-end", load, "", GaugeMerge.Max, "machine load average (1 min) when the fan-outs ended");
        }
    }

    /// <summary>
    /// The processes to read: the servers (not when the server runs in this process: its CPU would be the load generator's too),
    /// each node of a Notification Server of several (<c>node1</c>, <c>node2</c>, ...), its PostgreSQL server, and this process.
    /// </summary>
    internal static IEnumerable<(string Role, int Pid)> Processes(ServerSnapshot server)
    {
        if (server.ProcessId > 0 && server.ProcessId != Environment.ProcessId)
        {
            yield return (server.OtherNodes.Count > 0 ? "node1" : "server", server.ProcessId);
        }

        for (var i = 0; i < server.OtherNodes.Count; i++)
        {
            yield return ($"node{(i + 2).ToString(CultureInfo.InvariantCulture)}", server.OtherNodes[i]);
        }

        if (server.PostgresProcessId > 0)
        {
            yield return ("postgres", server.PostgresProcessId);
        }

        if (server.Gateway is { ProcessId: > 0 } gateway)
        {
            yield return ("gateway", gateway.ProcessId);
        }

        if (server.RelayProcessId > 0)
        {
            yield return ("relay", server.RelayProcessId);
        }

        if (server.TaskServer is { ProcessId: > 0 } taskServer)
        {
            yield return ("task-server", taskServer.ProcessId);
        }

        yield return ("client", Environment.ProcessId);
    }

    // PostgreSQL forks a backend per connection: its cost is the postmaster's whole tree.
    // why the client's own time from getrusage (Environment.CpuUsage): to the microsecond, where /proc counts 10 ms ticks and a smoke
    // run's load generator, a few milliseconds over its fan-outs, read as nothing.
    private static TimeSpan? Read(string role, int pid) => role switch
    {
        "postgres" => ProcessCpu.ReadTree(pid),
        "client" when pid == Environment.ProcessId => Environment.CpuUsage.TotalTime,
        _ => ProcessCpu.Read(pid),
    };

    private static int? NodeNumber(string role) =>
        role.StartsWith("node", StringComparison.Ordinal) && int.TryParse(role.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static string Describe(string role, string variant, int nodes) => role switch
    {
        "gateway" => "CEM gateway",
        "relay" => "bare relay",
        "task-server" => "Task Server",
        "postgres" => "PostgreSQL (the postmaster and its backends)",
        _ when NodeNumber(role) is { } node => $"Notification Server node {node.ToString(CultureInfo.InvariantCulture)}",
        _ when variant == "baseline" => "bare server",
        _ => nodes > 1 ? $"Notification Server ({nodes.ToString(CultureInfo.InvariantCulture)} nodes summed)" : "Notification Server",
    };
}
