using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Tcm.Protocol;

namespace Tcm.Hosting.Diagnostics;

/// <summary>A server's persistent channels, for <see cref="ProcessDiagnosticsEndpoint"/>: open now and accepted so far.</summary>
public interface IChannelFigures
{
    /// <summary>Channels open now.</summary>
    long Live { get; }

    /// <summary>Channels accepted since the start.</summary>
    long Accepted { get; }
}

/// <summary>
/// <c>GET /tcm/admin/diagnostics/process[?collect=true]</c>: the server process's own figures for capacity planning and load
/// tests: managed heap (after a full compacting collection when <c>collect=true</c>), working set, CPU time before and after
/// the collection, live TCP connections, channels live and accepted, and the most TCP connections accepted in one calendar
/// second. Mapped into a group behind the admin key (the NS's admin API, the Task Server's <c>/tcm/admin</c>); the channel
/// figures come from the server's <see cref="IChannelFigures"/>.
/// </summary>
public static class ProcessDiagnosticsEndpoint
{
    /// <summary>Kestrel's meter; its <c>kestrel.active_connections</c> moves by one per TCP connection opened or closed.</summary>
    private const string KestrelMeter = "Microsoft.AspNetCore.Server.Kestrel";

    /// <summary>Maps the endpoint into the admin group and starts counting this server's connections.</summary>
    public static RouteGroupBuilder MapProcessDiagnostics(this RouteGroupBuilder admin)
    {
        ArgumentNullException.ThrowIfNull(admin);
        var services = ((IEndpointRouteBuilder)admin).ServiceProvider;
        var connections = new ConnectionCounter(services);
        services.GetService<IHostApplicationLifetime>()?.ApplicationStopped.Register(connections.Dispose);
        admin.MapGet("/diagnostics/process", (bool? collect, IChannelFigures channels) => Results.Json(Snapshot(collect == true, channels, connections), ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64))
            .WithName("GetProcessDiagnostics")
            .WithSummary("The server process's managed heap (after a full collection with collect=true), working set, CPU time and connection counts.")
            .Produces<IReadOnlyDictionary<string, long>>();
        return admin;
    }

    private static IReadOnlyDictionary<string, long> Snapshot(bool collect, IChannelFigures channels, ConnectionCounter connections)
    {
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        long managed;
        if (collect)
        {
            GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            managed = GC.GetTotalMemory(forceFullCollection: true);
        }
        else
        {
            managed = GC.GetTotalMemory(forceFullCollection: false);
        }

        process.Refresh();
        return new SortedDictionary<string, long>(StringComparer.Ordinal)
        {
            ["process.id"] = Environment.ProcessId,
            ["process.working_set_bytes"] = process.WorkingSet64,
            ["process.cpu_us_before_collect"] = (long)(cpuBefore.Ticks / 10),
            ["process.cpu_us_after_collect"] = (long)(process.TotalProcessorTime.Ticks / 10),
            ["process.stopwatch_timestamp"] = Stopwatch.GetTimestamp(),
            ["process.stopwatch_frequency"] = Stopwatch.Frequency,
            ["gc.managed_bytes"] = managed,
            ["gc.server"] = GCSettings.IsServerGC ? 1 : 0,
            ["connections.tcp"] = connections.Live,
            ["connections.tcp_accepted"] = connections.Accepted,
            ["connections.tcp_peak_accepts_per_second"] = connections.PeakPerSecond,
            ["channels.live"] = channels.Live,
            ["channels.accepted"] = channels.Accepted,
        };
    }

    /// <summary>Follows Kestrel's connection meter of this application (not of other servers in the same process).</summary>
    private sealed class ConnectionCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentDictionary<long, long> _acceptsPerSecond = new();
        private long _live;
        private long _accepted;

        public ConnectionCounter(IServiceProvider services)
        {
            var scope = services.GetService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == KestrelMeter && instrument.Name == "kestrel.active_connections" && (scope is null || ReferenceEquals(instrument.Meter.Scope, scope)))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, delta, _, _) => OnMeasurement(delta));
            _listener.Start();
        }

        public long Live => Interlocked.Read(ref _live);

        public long Accepted => Interlocked.Read(ref _accepted);

        public long PeakPerSecond => _acceptsPerSecond.IsEmpty ? 0 : _acceptsPerSecond.Values.Max();

        public void Dispose() => _listener.Dispose();

        private void OnMeasurement(long delta)
        {
            Interlocked.Add(ref _live, delta);
            if (delta > 0)
            {
                Interlocked.Add(ref _accepted, delta);
                _acceptsPerSecond.AddOrUpdate(Environment.TickCount64 / 1000, delta, (_, n) => n + delta);
            }
        }
    }
}
