using Tcm.LoadTests.Harness.Cpu;

namespace Tcm.LoadTests.Tests;

/// <summary>
/// What a run's fan-outs cost in CPU: every server process (the Notification Server or the bare server, the gateway, the
/// Task Server) and the load generator are read at the start and the end of the measured phase (<see cref="ProcessCpu"/>),
/// and their CPU time is divided by the tasks the agents received and the results the server stored. Thread-safe counters.
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

    /// <summary>An agent received a pushed task (or message).</summary>
    public void OnDelivered() => Interlocked.Increment(ref _delivered);

    /// <summary>The server stored <paramref name="count"/> results (echoes).</summary>
    public void OnResults(int count) => Interlocked.Add(ref _results, count);

    /// <summary>The start of the measured phase: finds the server processes, reads their CPU time and the load generator's, and sets the counters to zero.</summary>
    public async Task StartAsync(ILoadTarget target, GaugeSet gauges, CancellationToken cancellationToken)
    {
        var server = await target.MeasureAsync(false, cancellationToken).ConfigureAwait(false);
        _start = Processes(server).Select(p => (p.Role, p.Pid, ProcessCpu.Read(p.Pid))).ToList();
        Interlocked.Exchange(ref _delivered, 0);
        Interlocked.Exchange(ref _results, 0);
        if (ProcessCpu.LoadAverage() is { } load)
        {
            gauges.Set("load-average-start", load, "", GaugeMerge.Max, "machine load average (1 min) when the fan-outs started");
        }
    }

    /// <summary>The end of the measured phase: the CPU time each process used since <see cref="StartAsync"/>, per task and per result.</summary>
    public void Stop(GaugeSet gauges, string variant, int shards)
    {
        var delivered = Interlocked.Read(ref _delivered) * (double)Math.Max(1, shards);
        var results = Interlocked.Read(ref _results) * (double)Math.Max(1, shards);
        foreach (var (role, pid, start) in _start)
        {
            if (start is null || ProcessCpu.Read(pid) is not { } end)
            {
                continue;
            }

            var cpuMs = (end - start.Value).TotalMilliseconds;
            if (role == "client")
            {
                if (delivered > 0)
                {
                    gauges.Set("client-cpu-per-agent-task", 1000 * cpuMs * shards / delivered, "us", GaugeMerge.Mean, "load generator CPU (user + system) per agent-task: a push received and answered by one agent");
                }

                continue;
            }

            gauges.Set($"{role}-cpu", cpuMs, "ms", GaugeMerge.Max, $"{Describe(role, variant)} CPU time (user + system, /proc) over the fan-outs");
            if (delivered > 0)
            {
                gauges.Set($"{role}-cpu-per-task", 1000 * cpuMs / delivered, "us", GaugeMerge.Mean, variant == "baseline" && role == "server"
                    ? "bare server CPU per echo: one message sent to an agent and echoed back"
                    : $"{Describe(role, variant)} CPU per delivered task");
            }

            if (role == "server" && results > 0)
            {
                gauges.Set("server-cpu-per-result", 1000 * cpuMs / results, "us", GaugeMerge.Mean, variant == "baseline"
                    ? "bare server CPU per echo received"
                    : "Notification Server CPU per stored result");
            }
        }

        if (ProcessCpu.LoadAverage() is { } load)
        {
            gauges.Set("load-average-end", load, "", GaugeMerge.Max, "machine load average (1 min) when the fan-outs ended");
        }
    }

    /// <summary>The processes to read: the servers (not when the server runs in this process: its CPU would be the load generator's too) and this one.</summary>
    internal static IEnumerable<(string Role, int Pid)> Processes(ServerSnapshot server)
    {
        if (server.ProcessId > 0 && server.ProcessId != Environment.ProcessId)
        {
            yield return ("server", server.ProcessId);
        }

        if (server.Gateway is { ProcessId: > 0 } gateway)
        {
            yield return ("gateway", gateway.ProcessId);
        }

        if (server.TaskServer is { ProcessId: > 0 } taskServer)
        {
            yield return ("task-server", taskServer.ProcessId);
        }

        yield return ("client", Environment.ProcessId);
    }

    private static string Describe(string role, string variant) => role switch
    {
        "gateway" => "CEM gateway",
        "task-server" => "Task Server",
        _ => variant == "baseline" ? "bare server" : "Notification Server",
    };
}
