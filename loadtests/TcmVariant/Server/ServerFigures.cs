using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Tcm.Agent.Network;
using Tcm.LoadTests.TcmVariant.Client;
using Tcm.Protocol;

namespace Tcm.LoadTests.TcmVariant.Server;

/// <summary>
/// Reads the TCM servers' own figures: the Notification Server's <c>GET /tcm/admin/diagnostics/process</c>, the gateway's
/// <c>GET /gateway/status</c>, and a process from outside (the Task Server has no diagnostics endpoint).
/// </summary>
internal static class ServerFigures
{
    /// <summary>
    /// A client of a server's admin endpoints at <paramref name="baseAddress"/>, with the admin key, trusting
    /// <paramref name="ca"/>; with <paramref name="dialLoopback"/> it dials 127.0.0.1 whatever the host name says (the gateway's
    /// address is <c>localhost:port</c>, its certificate names that host).
    /// </summary>
    public static HttpClient AdminHttpClient(Uri baseAddress, string adminKey, X509Certificate2? ca, bool dialLoopback = false)
    {
        var handler = new SocketsHttpHandler();
        if (dialLoopback)
        {
            handler.ConnectCallback = (context, ct) => LoopbackNetwork.Instance.ConnectAsync(context.DnsEndPoint, TrafficPurpose.Probe, ct);
        }

        if (ca is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = Lab.Admin.AdminClient.TrustedBy(ca);
        }

        var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Add(ProtocolConstants.AdminKeyHeader, adminKey);
        return client;
    }

    /// <summary>The Notification Server's process figures; with <paramref name="fullCollect"/> after a full compacting collection.</summary>
    public static async Task<ServerSnapshot> ReadNotificationServerAsync(HttpClient client, bool fullCollect, CancellationToken cancellationToken)
    {
        var figures = await client.GetFromJsonAsync(
            fullCollect ? "/tcm/admin/diagnostics/process?collect=true" : "/tcm/admin/diagnostics/process",
            ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64,
            cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("The Notification Server returned no figures.");
        long Get(string key) => figures.TryGetValue(key, out var value)
            ? value
            : throw new InvalidOperationException($"The Notification Server's diagnostics lack '{key}': is it older than this load test?");
        return NotificationServerNames.Read(Get) with
        {
            PeakAcceptsPerSecond = Get("connections.tcp_peak_accepts_per_second"),
            CpuMsBeforeCollect = Get("process.cpu_us_before_collect") / 1000.0,
            CpuMsAfterCollect = Get("process.cpu_us_after_collect") / 1000.0,
            Timestamp = Get("process.stopwatch_timestamp"),
        };
    }

    /// <summary>The gateway's figures from its status endpoint.</summary>
    public static async Task<ServerSnapshot> ReadGatewayAsync(HttpClient client, bool fullCollect, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(fullCollect ? "/gateway/status?collect=true" : "/gateway/status", cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false);
        var root = json.RootElement;
        long Get(string name) => root.TryGetProperty(name, out var value) && value.TryGetInt64(out var n)
            ? n
            : throw new InvalidOperationException($"The gateway's status lacks '{name}': is it older than this load test?");
        var cpu = root.TryGetProperty("cpuTimeMs", out var cpuValue) ? cpuValue.GetDouble() : 0;
        return GatewayNames.Read(Get) with { CpuMsBeforeCollect = cpu, CpuMsAfterCollect = cpu, Timestamp = Stopwatch.GetTimestamp() };
    }

    /// <summary>A process's working set and CPU time, read from outside; null when it is gone.</summary>
    public static ServerSnapshot? ReadProcess(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            var cpuMs = process.TotalProcessorTime.TotalMilliseconds;
            return new ServerSnapshot
            {
                ProcessId = pid,
                WorkingSetBytes = process.WorkingSet64,
                CpuMsBeforeCollect = cpuMs,
                CpuMsAfterCollect = cpuMs,
                Timestamp = Stopwatch.GetTimestamp(),
            };
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static readonly FigureNames NotificationServerNames = new("process.id", "channels.live", "connections.tcp", "channels.accepted", "gc.managed_bytes", "process.working_set_bytes");

    private static readonly FigureNames GatewayNames = new("processId", "tunnelsOpen", "agentsConnected", "connectsTotal", "managedBytes", "workingSetBytes");

    /// <summary>What a server calls the figures every server reports.</summary>
    private sealed record FigureNames(string ProcessId, string WebSockets, string Connections, string Accepted, string ManagedBytes, string WorkingSetBytes)
    {
        public ServerSnapshot Read(Func<string, long> get) => new()
        {
            ProcessId = (int)get(ProcessId),
            WebSockets = get(WebSockets),
            Connections = get(Connections),
            Accepted = get(Accepted),
            ManagedBytes = get(ManagedBytes),
            WorkingSetBytes = get(WorkingSetBytes),
        };
    }
}
