using Tcm.LoadTests.Harness.Cpu;

namespace Tcm.LoadTests.Tests;

/// <summary>
/// idle-hold: N agents ramp up (closed model, one copy per held channel) and then sit idle. The server is measured before
/// any agent and again once all are connected and settled, each time after a full compacting collection: managed heap and
/// working set deltas divided by the connections the server holds. The client's managed heap delta is divided by its
/// agents. Then CPU of both processes is read over an idle window of <c>--duration</c>. The scenario stops itself after.
/// </summary>
internal sealed class IdleHoldTest() : LoadTest(Info)
{
    private static readonly LoadTestInfo Info = new("idle-hold", "N idle connections held: server heap and working set per connection, client heap per agent, idle CPU")
    {
        DefaultDuration = TimeSpan.FromSeconds(20),
        DurationMeaning = "the idle window over which CPU is measured",
        Parameters =
        [
            new("--ramp", "time to bring all agents up (RampingConstant)", "20s"),
            new("--settle", "wait after the last agent connected before measuring memory", "5s"),
        ],
        DefaultRoutes = LoadTestInfo.DirectAndGateway,
        DefaultThresholds = ["connect: fail% < 0.1"],
    };

    public override IReadOnlyList<ScenarioProps> Build(TestContext context)
    {
        var agents = context.Agents;
        var ramp = context.GetDuration("--ramp");
        var settle = context.GetDuration("--settle");
        var tracker = new AgentTracker();
        Task? measuring = null;
        var scenario = Scenario.Create(context.ScenarioName(Name), ctx => AgentSteps.HoldOrConnectAsync(ctx, context, tracker, TimeSpan.FromSeconds(1)))
            .WithInit(async ctx =>
            {
                tracker.Attach(ctx.Gauges, ctx.CancellationToken);
                await ConnectStormTest.WarmUpAsync(context, ctx.CancellationToken).ConfigureAwait(false);
                var server0 = await context.Target.MeasureAsync(true, ctx.CancellationToken).ConfigureAwait(false);
                var client0 = ClientHeap();
                measuring = MeasureAsync(ctx, context, tracker, server0, client0, ramp + settle + TimeSpan.FromMinutes(1), settle);
            })
            .WithClean(async _ =>
            {
                if (measuring is not null)
                {
                    await measuring.ConfigureAwait(false);
                }
            })
            .WithLoadSimulations(
                Simulation.RampingConstant(agents, ramp),
                Simulation.KeepConstant(agents, settle + context.Duration + TimeSpan.FromMinutes(2)));
        return [scenario];
    }

    private static long ClientHeap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static void SetLoadAverage(GaugeSet gauges, string name, string when)
    {
        if (ProcessCpu.LoadAverage() is { } load)
        {
            gauges.Set(name, load, "", GaugeMerge.Max, "machine load average (1 min) " + when);
        }
    }

    private static async Task MeasureAsync(ScenarioInitContext ctx, TestContext context, AgentTracker tracker, ServerSnapshot server0, long client0, TimeSpan connectTimeout, TimeSpan settle)
    {
        var token = ctx.CancellationToken;
        try
        {
            await tracker.WaitForConnectedAsync(context.Agents, connectTimeout, context.Time, token).ConfigureAwait(false);

            await Task.Delay(settle, context.Time, token).ConfigureAwait(false);
            var server1 = await context.Target.MeasureAsync(true, token).ConfigureAwait(false);
            var client1 = ClientHeap();
            var clientCpu1 = Process.GetCurrentProcess().TotalProcessorTime;
            var clientAt1 = Stopwatch.GetTimestamp();
            // Through the gateway the server sees a few shared HTTP/2 upstreams, not the agents' connections: count its channels.
            var connections = Math.Max(1, context.Route == AgentRoute.Gateway ? server1.WebSockets : server1.Connections);
            var held = Math.Max(1, tracker.Connected);
            ctx.Gauges.Set("server-connections", server1.Connections, "", GaugeMerge.Max, "TCP connections the server holds (WebSockets: " + server1.WebSockets + ")");
            ctx.Gauges.Set("server-heap-per-connection", (server1.ManagedBytes - server0.ManagedBytes) / (double)connections, "bytes", GaugeMerge.Mean, context.Route == AgentRoute.Gateway ? "server managed heap delta after a full GC / agent channels (relayed by the gateway)" : "server managed heap delta after a full GC / connections");
            ctx.Gauges.Set("server-ws-per-connection", (server1.WorkingSetBytes - server0.WorkingSetBytes) / (double)connections, "bytes", GaugeMerge.Mean, context.Route == AgentRoute.Gateway ? "server working set delta / agent channels (relayed by the gateway)" : "server working set delta / connections");
            ctx.Gauges.Set("client-heap-per-agent", (client1 - client0) / (double)held, "bytes", GaugeMerge.Mean, "load generator managed heap delta after a full GC / agents it holds");
            ctx.Gauges.Set("server-heap", server1.ManagedBytes, "bytes", GaugeMerge.Max, "server managed heap with all connections, after a full GC");
            ctx.Gauges.Set("server-working-set", server1.WorkingSetBytes, "bytes", GaugeMerge.Max, "server working set with all connections");
            if (server1.Gateway is { } gateway1 && server0.Gateway is { } gateway0)
            {
                // Per agent: one TLS connection each (HTTP/2 carries NS and TS channels together), whatever the protocol.
                var agentsAtGateway = Math.Max(1, gateway1.Connections);
                ctx.Gauges.Set("gateway-agents", gateway1.Connections, "agents", GaugeMerge.Max, $"agent TLS connections the CEM gateway holds (tunnels: {gateway1.WebSockets})");
                ctx.Gauges.Set("gateway-heap-per-agent", (gateway1.ManagedBytes - gateway0.ManagedBytes) / (double)agentsAtGateway, "bytes", GaugeMerge.Mean, "CEM gateway managed heap delta after a full GC / agents");
                ctx.Gauges.Set("gateway-ws-per-agent", (gateway1.WorkingSetBytes - gateway0.WorkingSetBytes) / (double)agentsAtGateway, "bytes", GaugeMerge.Mean, "CEM gateway working set delta / agents");
                ctx.Gauges.Set("gateway-heap", gateway1.ManagedBytes, "bytes", GaugeMerge.Max, "CEM gateway managed heap with all agents, after a full GC");
            }

            SetLoadAverage(ctx.Gauges, "load-average-start", "when the idle window started");
            if (context.Shard == 0)
            {
                // why: names the processes to attach a profiler to (docs/benchmarks.md, issue 16's idle sections).
                await context.Log.WriteLineAsync($"{context.ScenarioName("idle-hold")}: idle window starts, {context.Duration.TotalSeconds:0} s; server pid {server1.ProcessId}"
                    + (server1.Gateway is { ProcessId: > 0 } g ? $", gateway pid {g.ProcessId}" : "")
                    + (server1.TaskServer is { ProcessId: > 0 } t ? $", task server pid {t.ProcessId}" : "")).ConfigureAwait(false);
            }

            await Task.Delay(context.Duration, context.Time, token).ConfigureAwait(false);
            var server2 = await context.Target.MeasureAsync(false, token).ConfigureAwait(false);
            var clientCpu2 = Process.GetCurrentProcess().TotalProcessorTime;
            var serverWallMs = Stopwatch.GetElapsedTime(server1.Timestamp, server2.Timestamp).TotalMilliseconds;
            var clientWallMs = Stopwatch.GetElapsedTime(clientAt1).TotalMilliseconds;
            var serverCpu = 100 * (server2.CpuMsBeforeCollect - server1.CpuMsAfterCollect) / Math.Max(serverWallMs, 1);
            var clientCpu = 100 * (clientCpu2 - clientCpu1).TotalMilliseconds / Math.Max(clientWallMs, 1);
            SetLoadAverage(ctx.Gauges, "load-average-end", "when the idle window ended");
            // why: each process's CPU per channel it holds, beside the total: the bare server holds every channel of the agents, the
            // gateway every tunnel (both channels of an agent), the NS the NS channels, the Task Server as many (one per agent).
            var serverChannels = Math.Max(1, server1.WebSockets);
            ctx.Gauges.Set("server-channels", server1.WebSockets, "", GaugeMerge.Max, "WebSockets (channels) the server holds");
            ctx.Gauges.Set("server-idle-cpu", serverCpu, "%", GaugeMerge.Mean, $"server CPU over the idle window, % of one core ({Environment.ProcessorCount} cores)");
            ctx.Gauges.Set("server-idle-cpu-per-1k-channels", 1000 * serverCpu / serverChannels, "%", GaugeMerge.Mean, "server CPU over the idle window per 1,000 channels it holds, % of one core");
            ctx.Gauges.Set("server-idle-cpu-machine", serverCpu / Environment.ProcessorCount, "%", GaugeMerge.Mean, "server CPU over the idle window, % of the machine");
            ctx.Gauges.Set("client-idle-cpu", clientCpu, "%", GaugeMerge.Sum, "load generator CPU over the idle window, % of one core");
            if (server1.TaskServer is { } ts1 && server0.TaskServer is { } ts0)
            {
                ctx.Gauges.Set("task-server-ws-per-agent", (ts1.WorkingSetBytes - ts0.WorkingSetBytes) / (double)held, "bytes", GaugeMerge.Mean, "Task Server working set delta / agents (read from its process; it has no heap endpoint)");
                ctx.Gauges.Set("task-server-working-set", ts1.WorkingSetBytes, "bytes", GaugeMerge.Max, "Task Server working set with all agents");
            }

            if (server2.TaskServer is { } tsAfter && server1.TaskServer is { } tsBefore)
            {
                var taskServerCpu = 100 * (tsAfter.CpuMsBeforeCollect - tsBefore.CpuMsAfterCollect) / Math.Max(serverWallMs, 1);
                ctx.Gauges.Set("task-server-idle-cpu", taskServerCpu, "%", GaugeMerge.Mean, "Task Server CPU over the idle window, % of one core");
                ctx.Gauges.Set("task-server-idle-cpu-per-1k-channels", 1000 * taskServerCpu / serverChannels, "%", GaugeMerge.Mean, "Task Server CPU over the idle window per 1,000 channels it holds (one per agent, as many as the NS), % of one core");
            }

            if (server2.Gateway is { } gateway2 && server1.Gateway is { } gatewayBefore)
            {
                var gatewayCpu = 100 * (gateway2.CpuMsBeforeCollect - gatewayBefore.CpuMsAfterCollect) / Math.Max(serverWallMs, 1);
                ctx.Gauges.Set("gateway-idle-cpu", gatewayCpu, "%", GaugeMerge.Mean, "CEM gateway CPU over the idle window, % of one core");
                ctx.Gauges.Set("gateway-idle-cpu-per-1k-channels", 1000 * gatewayCpu / Math.Max(1, gatewayBefore.WebSockets), "%", GaugeMerge.Mean, "CEM gateway CPU over the idle window per 1,000 tunnels it holds, % of one core");
            }
            ctx.StopScenario("measured");
        }
        catch (OperationCanceledException)
        {
            // The run stopped before the measurement finished; gauges set so far stay.
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException)
        {
            ctx.Gauges.Set("measurement-failed", 1, "", GaugeMerge.Max, ex.Message);
            ctx.StopScenario("measurement failed: " + ex.Message);
        }
    }
}
