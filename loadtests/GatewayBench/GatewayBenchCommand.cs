using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tcm.LoadTests.Baseline.Server;
using Tcm.LoadTests.Cli;
using Tcm.LoadTests.TcmVariant.Server;

namespace Tcm.LoadTests.GatewayBench;

/// <summary>
/// <c>gateway-bench</c>: holds N idle agents through one gateway process (<c>tcm gateway</c>, its own process, started from the
/// <c>tcm.dll</c> beside the load tests) and, in the same run, through a bare Kestrel baseline holding the same inbound
/// connections; measures managed and process memory per agent and idle CPU of each. Agents come from several client processes
/// (each process has its own open-file limit). The roles (<c>gateway-bench-backend</c>, <c>gateway-bench-baseline</c>,
/// <c>gateway-bench-clients</c>) are this program again, in processes the bench starts itself.
/// </summary>
internal static class GatewayBenchCommand
{
    private const string AdminKey = "bench-admin-key-0123456789";
    private const string BackendRole = "gateway-bench-backend";
    private const string BaselineRole = "gateway-bench-baseline";
    private const string ClientsRole = "gateway-bench-clients";

    public static Command Create()
    {
        var agents = new Option<int>("--agents") { Description = "Idle agents to hold. Default: 19000", DefaultValueFactory = _ => 19_000 };
        var processes = new Option<int>("--client-processes") { Description = "Client processes the agents are spread over. Default: 4", DefaultValueFactory = _ => 4 };
        var mode = new Option<string>("--mode") { Description = "h2: one TCP connection per agent carrying its NS and TS WebSockets (RFC 8441); h1: one HTTP/1.1 WebSocket per agent. Default: h2", DefaultValueFactory = _ => "h2" };
        var settle = new Option<int>("--idle-seconds") { Description = "Seconds of idle time over which CPU is measured. Default: 15", DefaultValueFactory = _ => 15 };
        var settings = new Option<string[]>("--gateway-setting") { Description = "Extra gateway configuration for every gateway run, key=value (repeatable), e.g. Gateway:Http2KeepAlivePingDelay=00:00:00", DefaultValueFactory = _ => [] };
        var variants = new Option<string[]>("--variant")
        {
            Description = "One gateway run per value, each beside the same bare baseline: settings key=value separated by ';', or 'defaults' (repeatable). Default: one run with the defaults",
            DefaultValueFactory = _ => ["defaults"],
        };
        var command = new Command("gateway-bench", "Benchmark: N idle agents through one gateway process beside a bare Kestrel baseline; memory per agent and idle CPU (docs/benchmarks.md, Gateway).")
        {
            agents, processes, mode, settle, settings, variants,
        };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(agents), parse.GetValue(processes), parse.GetValue(mode)!, parse.GetValue(settle),
            parse.GetValue(settings)!, parse.GetValue(variants)!, ct));
        return command;
    }

    public static IEnumerable<Command> CreateRoles()
    {
        var dir = new Option<string>("--dir") { Required = true };
        var backend = new Command(BackendRole, "(bench role) two TLS ports that accept and hold WebSockets: an NS-like and a TS-like backend") { dir };
        backend.Hidden = true;
        backend.SetAction((parse, ct) => ServeAsync(parse.GetValue(dir)!, ports: 2, ct));
        yield return backend;

        var baseline = new Command(BaselineRole, "(bench role) bare Kestrel: TLS, client certificates allowed, WebSockets accepted and held") { dir };
        baseline.Hidden = true;
        baseline.SetAction((parse, ct) => ServeAsync(parse.GetValue(dir)!, ports: 1, ct));
        yield return baseline;

        var count = new Option<int>("--count") { Required = true };
        var mode = new Option<string>("--mode") { Required = true };
        var clients = new Command(ClientsRole, "(bench role) agents with their own certificates; commands on stdin: connect, close") { dir, count, mode };
        clients.Hidden = true;
        clients.SetAction((parse, ct) => ClientsAsync(parse.GetValue(dir)!, parse.GetValue(count), parse.GetValue(mode)!, ct));
        yield return clients;
    }

    private static async Task<int> RunAsync(int agents, int processCount, string mode, int idleSeconds, string[] gatewaySettings, string[] variants, CancellationToken ct)
    {
        if (TcmHostProcess.UnavailableReason() is { } why)
        {
            Console.WriteLine($"error: {why}");
            return ExitCodes.RunError;
        }

        var dir = Path.Combine(Path.GetTempPath(), "tcm-gateway-bench-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
        Directory.CreateDirectory(dir);
        Console.WriteLine($"gateway bench: {agents:N0} agents ({mode}), {processCount} client processes, work folder {dir}");
        GatewayBenchCertificates.Write(dir, Path.Combine(dir, "gw"));
        var children = new List<Process>();
        try
        {
            var backend = Start(children, BackendRole, "--dir", dir);
            var backendPorts = (await ReadLineAsync(backend, "ports", ct)).Split(' ')[1..].Select(int.Parse).ToArray();
            var baseline = Start(children, BaselineRole, "--dir", dir);
            var baselinePort = int.Parse((await ReadLineAsync(baseline, "ports", ct)).Split(' ')[1], CultureInfo.InvariantCulture);
            var clients = new List<Process>();
            for (var i = 0; i < processCount; i++)
            {
                var share = agents / processCount + (i < agents % processCount ? 1 : 0);
                clients.Add(Start(children, ClientsRole, "--dir", dir, "--count", share.ToString(CultureInfo.InvariantCulture), "--mode", mode));
            }

            foreach (var client in clients)
            {
                await ReadLineAsync(client, "certificates", ct);
            }

            using var http = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } });
            http.DefaultRequestHeaders.Add(Protocol.ProtocolConstants.AdminKeyHeader, AdminKey);
            var loadStart = LoadAverage();
            var results = new List<Result>
            {
                await MeasureAsync("bare Kestrel", baseline, clients, $"127.0.0.1:{baselinePort} {(mode == "h2" ? "/ns /ts" : "/ns")}",
                    () => ManagedFromBaselineAsync(http, baselinePort, ct), agents, idleSeconds, ct),
            };
            var relayPaths = mode == "h2"
                ? $"/relay/127.0.0.1:{backendPorts[0]}/tcm/agent/channel /relay/127.0.0.1:{backendPorts[1]}/tcm/agent/channel"
                : $"/relay/127.0.0.1:{backendPorts[0]}/tcm/agent/channel";
            foreach (var variant in variants)
            {
                // why: one gateway process per variant, stopped before the next, so each is measured alone beside the same baseline.
                var extra = variant == "defaults" ? [] : variant.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var gateway = Start(children, ["gateway", "--data", Path.Combine(dir, "gw"), "--port", "0", "--name", "bench-gw", "--admin-key", AdminKey,
                    "--ns", $"ns1=127.0.0.1:{backendPorts[0]}", "--ts", $"ts1=127.0.0.1:{backendPorts[1]}=ns1", "--Logging:LogLevel:Default=Warning",
                    // why: the bench's agents are silent (no keep-alive), and connecting 19,000 takes minutes: no tunnel may idle out meanwhile.
                    "--Gateway:TunnelIdleTimeout=01:00:00", .. gatewaySettings.Concat(extra).Select(s => "--" + s)]);
                var gatewayPort = new Uri((await ReadLineAsync(gateway, "CEM gateway", ct)).Split(' ')[^1]).Port;
                var name = gatewaySettings.Length + extra.Length == 0 ? "gateway (YARP relay)" : $"gateway (YARP relay; {string.Join(", ", gatewaySettings.Concat(extra))})";
                results.Add(await MeasureAsync(name, gateway, clients, $"127.0.0.1:{gatewayPort} {relayPaths}", () => ManagedFromGatewayAsync(http, gatewayPort, ct), agents, idleSeconds, ct));
                var status = JsonDocument.Parse(await http.GetStringAsync($"https://127.0.0.1:{gatewayPort}/gateway/status", ct)).RootElement;
                Console.WriteLine($"{name} after its run: connects {status.GetProperty("connectsTotal")}, rejections {status.GetProperty("rejectionsTotal")}, " +
                    $"handshake failures {status.GetProperty("handshakeFailures")}, open files limit {OpenFileLimit(gateway.Id)}");
                gateway.Kill(entireProcessTree: true);
                await gateway.WaitForExitAsync(ct);
            }

            PrintTable(mode, results, loadStart, LoadAverage());
            return results.All(r => r.Failed == 0) ? ExitCodes.Passed : ExitCodes.ThresholdsFailed;
        }
        finally
        {
            foreach (var child in children)
            {
                if (!child.HasExited)
                {
                    child.Kill(entireProcessTree: true);
                }

                child.Dispose();
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<Result> MeasureAsync(string name, Process server, List<Process> clients, string connectArgs, Func<Task<long>> managed, int agents, int idleSeconds, CancellationToken ct)
    {
        Console.WriteLine($"{name}: measuring before connections");
        var managedBefore = await managed();
        var rssBefore = Rss(server.Id);
        var clock = Stopwatch.StartNew();
        foreach (var client in clients)
        {
            await client.StandardInput.WriteLineAsync($"connect {connectArgs}");
        }

        int held = 0, failed = 0;
        foreach (var client in clients)
        {
            var parts = (await ReadLineAsync(client, "connected", ct)).Split(' ');
            held += int.Parse(parts[1], CultureInfo.InvariantCulture);
            failed += int.Parse(parts[2], CultureInfo.InvariantCulture);
        }

        Console.WriteLine($"{name}: {held:N0} agents connected in {clock.Elapsed.TotalSeconds:N1} s ({failed:N0} failed); idle for {idleSeconds} s");
        // why: tiered JIT recompiles the connect path for a few seconds after a burst; a profile of the first idle seconds showed
        // it (docs/benchmarks.md, Gateway), and it is not idle cost.
        await Task.Delay(TimeSpan.FromSeconds(10), ct);
        // The process id, for a profiler attached over the idle window (docs/benchmarks.md, Gateway).
        Console.WriteLine($"{name}: idle window starts, server pid {server.Id}");
        var cpuBefore = CpuTicks(server.Id);
        var idleClock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(idleSeconds), ct);
        var cpuPercent = (CpuTicks(server.Id) - cpuBefore) / 100.0 / idleClock.Elapsed.TotalSeconds * 100;
        var managedAfter = await managed();
        var rssAfter = Rss(server.Id);
        foreach (var client in clients)
        {
            await client.StandardInput.WriteLineAsync("close");
        }

        foreach (var client in clients)
        {
            await ReadLineAsync(client, "closed", ct);
        }

        var count = Math.Max(1, held);
        Console.WriteLine($"{name}: managed {managedBefore / 1048576.0:N1} -> {managedAfter / 1048576.0:N1} MB, process {rssBefore / 1048576.0:N1} -> {rssAfter / 1048576.0:N1} MB, idle CPU {cpuPercent:N2}% of one core");
        return new Result(name, held, failed, (managedAfter - managedBefore) / (double)count, (rssAfter - rssBefore) / (double)count, cpuPercent);
    }

    private sealed record Result(string Name, int Held, int Failed, double ManagedPerAgent, double ProcessPerAgent, double IdleCpuPercent);

    /// <summary>One row per server, each with its ratio to the bare baseline (the first row), and the load average around the run.</summary>
    private static void PrintTable(string mode, List<Result> results, string loadStart, string loadEnd)
    {
        var bare = results[0];
        Console.WriteLine();
        Console.WriteLine($"| {mode} | agents held | managed KB/agent | process KB/agent | idle CPU (% of one core) | managed / bare | process / bare | idle CPU / bare | connect failures |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var r in results)
        {
            Console.WriteLine($"| {r.Name} | {r.Held:N0} | {r.ManagedPerAgent / 1024:N1} | {r.ProcessPerAgent / 1024:N1} | {r.IdleCpuPercent:N2} | " +
                $"{r.ManagedPerAgent / bare.ManagedPerAgent:N2}x | {r.ProcessPerAgent / bare.ProcessPerAgent:N2}x | {r.IdleCpuPercent / Math.Max(bare.IdleCpuPercent, 0.01):N2}x | {r.Failed:N0} |");
        }

        Console.WriteLine($"load average at start: {loadStart}; at end: {loadEnd}");
    }

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static async Task<long> ManagedFromGatewayAsync(HttpClient http, int port, CancellationToken ct) =>
        JsonDocument.Parse(await http.GetStringAsync($"https://127.0.0.1:{port}/gateway/status?collect=true", ct)).RootElement.GetProperty("managedBytes").GetInt64();

    private static async Task<long> ManagedFromBaselineAsync(HttpClient http, int port, CancellationToken ct) =>
        long.Parse(await http.GetStringAsync($"https://127.0.0.1:{port}/managed", ct), CultureInfo.InvariantCulture);

    /// <summary>Resident set size from <c>/proc/{pid}/status</c>, in bytes.</summary>
    private static long Rss(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>User + system CPU time of a process from <c>/proc/{pid}/stat</c>, in clock ticks (1/100 s).</summary>
    private static long CpuTicks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    private static string OpenFileLimit(int pid) =>
        File.ReadLines($"/proc/{pid}/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3] ?? "?";

    /// <summary>Starts a role of the bench (this program again) or, for <c>gateway</c>, the product's <c>tcm gateway</c>.</summary>
    private static Process Start(List<Process> children, params string[] arguments)
    {
        ProcessStartInfo info;
        if (arguments[0] == "gateway")
        {
            info = new ProcessStartInfo(SelfLauncher.DotnetHost()) { UseShellExecute = false };
            info.ArgumentList.Add(TcmHostProcess.HostPath());
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }
        }
        else
        {
            info = SelfLauncher.StartInfo(arguments);
        }

        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        // why: the same GC for the gateway and the baseline, and the one the load tests use (workstation, concurrent).
        info.Environment["DOTNET_gcServer"] = "0";
        var process = Process.Start(info)!;
        children.Add(process);
        return process;
    }

    private static async Task<string> ReadLineAsync(Process process, string prefix, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(10));
        while (true)
        {
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
                ?? throw new InvalidOperationException($"process {process.Id} ended before saying '{prefix}'");
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line;
            }
        }
    }

    // ---- roles ----

    /// <summary>Bare Kestrel (the baseline, one port) or the stub backends (two ports): TLS, HTTP/1.1 + HTTP/2, WebSockets held with a zero-byte read.</summary>
    private static async Task<int> ServeAsync(string dir, int ports, CancellationToken ct)
    {
        var certificate = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(dir, "server.pfx"), null);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.Http2.MaxStreamsPerConnection = 10_000;
            for (var i = 0; i < ports; i++)
            {
                kestrel.Listen(IPAddress.Loopback, 0, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificate = certificate,
                        ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                        ClientCertificateValidation = static (_, _, _) => true,
                    });
                });
            }
        });
        var app = builder.Build();
        app.UseWebSockets();
        app.MapGet("/managed", () => GC.GetTotalMemory(forceFullCollection: true).ToString(CultureInfo.InvariantCulture));
        app.Map("/{**path}", async (HttpContext context) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 404;
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            try
            {
                while (true)
                {
                    // Zero-byte read: an idle socket holds no buffer (the same floor the gateway stands on).
                    await socket.ReceiveAsync(Memory<byte>.Empty, context.RequestAborted);
                    var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
                    try
                    {
                        var result = await socket.ReceiveAsync(buffer.AsMemory(), context.RequestAborted);
                        if (result.MessageType == WebSocketMessageType.Close)
                        {
                            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
                            return;
                        }
                    }
                    finally
                    {
                        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
            {
            }
        });
        await app.StartAsync(ct);
        Console.WriteLine("ports " + string.Join(' ', app.Urls.Select(u => new Uri(u).Port)));
        await app.WaitForShutdownAsync(ct);
        return 0;
    }

    /// <summary>A client process: issues its agents' certificates, then obeys <c>connect host:port path...</c> and <c>close</c> on stdin.</summary>
    private static async Task<int> ClientsAsync(string dir, int count, string mode, CancellationToken ct)
    {
        using var ca = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(dir, "ca.pfx"), null);
        var certificates = new X509Certificate2[count];
        Parallel.For(0, count, i => certificates[i] = GatewayBenchCertificates.Issue(ca, $"CN={Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}", server: false));
        Console.WriteLine($"certificates {count}");
        var open = new ConcurrentBag<(HttpMessageInvoker Invoker, ClientWebSocket[] Sockets)>();
        while (await Console.In.ReadLineAsync(ct) is { } line)
        {
            var parts = line.Split(' ');
            if (parts[0] == "connect")
            {
                var target = parts[1];
                var paths = parts[2..];
                int failed = 0;
                using var gate = new SemaphoreSlim(24);
                var tasks = certificates.Select(async certificate =>
                {
                    await gate.WaitAsync(ct);
                    try
                    {
                        var handler = new SocketsHttpHandler { PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
                        handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
                        handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate;
                        var invoker = new HttpMessageInvoker(handler);
                        var sockets = new ClientWebSocket[paths.Length];
                        for (var i = 0; i < paths.Length; i++)
                        {
                            var socket = new ClientWebSocket();
                            socket.Options.HttpVersion = mode == "h2" ? HttpVersion.Version20 : HttpVersion.Version11;
                            socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
                            socket.Options.KeepAliveInterval = TimeSpan.Zero;
                            await socket.ConnectAsync(new Uri($"wss://{target}{paths[i]}"), invoker, ct);
                            sockets[i] = socket;
                        }

                        open.Add((invoker, sockets));
                    }
                    catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException or OperationCanceledException)
                    {
                        Interlocked.Increment(ref failed);
                    }
                    finally
                    {
                        gate.Release();
                    }
                }).ToList();
                await Task.WhenAll(tasks);
                Console.WriteLine($"connected {open.Count} {failed}");
            }
            else if (parts[0] == "close")
            {
                while (open.TryTake(out var agent))
                {
                    foreach (var socket in agent.Sockets)
                    {
                        socket.Abort();
                        socket.Dispose();
                    }

                    agent.Invoker.Dispose();
                }

                Console.WriteLine("closed");
            }
        }

        return 0;
    }
}
