using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using Tcm.Agent;
using Tcm.Agent.Network;
using Tcm.Agent.State;
using Tcm.Agent.Tasks;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Host.Commands;

/// <summary><c>tcm agent run|status|terminate</c>: a real agent on this machine, and its Network Status.</summary>
internal static class AgentCommand
{
    internal const string StatusFile = "status.json";
    internal const string TerminateRequestFile = "terminate.request";

    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "The agent's data folder (identity, certificate, unsent results, status). Default: data/agent", DefaultValueFactory = _ => "data/agent" };

        var package = new Option<FileInfo>("--package") { Description = "Install package (JSON) built by the Notification Server from a communication profile", Required = true };
        var name = new Option<string?>("--name") { Description = "Computer name to register with. Default: this machine's name" };
        var attributes = new Option<string[]>("--attribute") { Description = "key=value attribute that targets can match (site, group, ...); repeatable", AllowMultipleArgumentsPerToken = true };
        var run = new Command("run", "Run the agent: register from the install package, keep the persistent connection, run pushed tasks. Ctrl+C stops it.") { package, data, name, attributes };
        run.SetAction((parse, ct) => RunAsync(parse.GetValue(package)!, parse.GetValue(data)!, parse.GetValue(name), parse.GetValue(attributes) ?? [], ct));

        var status = new Command("status", "Print the running agent's Network Status (as the agent's Network Status panel shows it).") { data };
        status.SetAction((parse, ct) => PrintStatusAsync(parse.GetValue(data)!, ct));

        var after = new Option<int>("--reconnect-after") { Description = "Seconds the agent stays on HTTP before it tries the persistent connection again. Default: 60", DefaultValueFactory = _ => 60 };
        var terminate = new Command("terminate", "Terminate the running agent's persistent connection (it falls back to HTTP and reconnects later).") { data, after };
        terminate.SetAction((parse, ct) => RequestTerminateAsync(parse.GetValue(data)!, parse.GetValue(after), ct));

        return new Command("agent", "A real TCM agent on this machine.") { run, status, terminate };
    }

    private static async Task<int> RunAsync(FileInfo packageFile, string dataDirectory, string? name, string[] attributePairs, CancellationToken ct)
    {
        if (!packageFile.Exists)
        {
            await Console.Error.WriteLineAsync($"tcm agent: install package '{packageFile.FullName}' does not exist. Build one with the admin API (POST /tcm/admin/profiles/{{id}}/package) or use <ns data>/agent-package.json.");
            return 2;
        }

        InstallPackage? installPackage;
        try
        {
            installPackage = JsonSerializer.Deserialize(await File.ReadAllTextAsync(packageFile.FullName, ct), ProtocolJsonContext.Default.InstallPackage);
        }
        catch (JsonException ex)
        {
            await Console.Error.WriteLineAsync($"tcm agent: '{packageFile.FullName}' is not an install package: {ex.Message}");
            return 2;
        }

        var attributes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in attributePairs)
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                await Console.Error.WriteLineAsync($"tcm agent: --attribute '{pair}' must be key=value");
                return 2;
            }

            attributes[pair[..eq]] = pair[(eq + 1)..];
        }

        Directory.CreateDirectory(dataDirectory);
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; }).SetMinimumLevel(LogLevel.Information));
        var options = new AgentOptions
        {
            Package = installPackage!,
            ComputerName = name ?? Environment.MachineName,
            Domain = Environment.UserDomainName,
            OsName = RuntimeInformation.OSDescription,
            Attributes = attributes,
        };

        await using var agent = new TcmAgent(options, new OsNetwork(), new FileAgentStateStore(dataDirectory), new BuiltInTaskExecutor(), TimeProvider.System, loggers);
        var statusPath = Path.Combine(dataDirectory, StatusFile);
        var terminatePath = Path.Combine(dataDirectory, TerminateRequestFile);
        File.Delete(terminatePath);

        await agent.StartAsync(ct);
        Console.WriteLine($"Agent '{options.ComputerName}' started against {installPackage!.ServerUrl}; status in {Path.GetFullPath(statusPath)}. Ctrl+C stops it.");

        // The status file is how `tcm agent status` reads the running agent; a request file is how `terminate` reaches it.
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            do
            {
                await WriteStatusAsync(statusPath, agent, ct);
                if (File.Exists(terminatePath))
                {
                    var seconds = int.TryParse(await File.ReadAllTextAsync(terminatePath, ct), out var s) ? s : 60;
                    File.Delete(terminatePath);
                    await agent.TerminatePersistentConnectionAsync(TimeSpan.FromSeconds(seconds), ct);
                }
            }
            while (await tick.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }

        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await agent.StopAsync(stopping.Token);
        await WriteStatusAsync(statusPath, agent, CancellationToken.None);
        return 0;
    }

    private static async Task WriteStatusAsync(string path, TcmAgent agent, CancellationToken ct)
    {
        var json = JsonSerializer.Serialize(agent.GetNetworkStatus(), ProtocolJsonContext.Default.NetworkStatus);
        var temp = path + ".tmp";
        await File.WriteAllTextAsync(temp, json, ct);
        File.Move(temp, path, overwrite: true);
    }

    private static async Task<int> PrintStatusAsync(string dataDirectory, CancellationToken ct)
    {
        var path = Path.Combine(dataDirectory, StatusFile);
        if (!File.Exists(path))
        {
            await Console.Error.WriteLineAsync($"tcm agent: no status at '{Path.GetFullPath(path)}': is an agent running with --data {dataDirectory}?");
            return 2;
        }

        var status = JsonSerializer.Deserialize(await File.ReadAllTextAsync(path, ct), ProtocolJsonContext.Default.NetworkStatus)!;
        Console.Write(NetworkStatusText.Format(status, File.GetLastWriteTimeUtc(path)));
        return 0;
    }

    private static async Task<int> RequestTerminateAsync(string dataDirectory, int reconnectAfter, CancellationToken ct)
    {
        if (!File.Exists(Path.Combine(dataDirectory, StatusFile)))
        {
            await Console.Error.WriteLineAsync($"tcm agent: no agent runs with --data {dataDirectory}");
            return 2;
        }

        await File.WriteAllTextAsync(Path.Combine(dataDirectory, TerminateRequestFile), reconnectAfter.ToString(System.Globalization.CultureInfo.InvariantCulture), ct);
        Console.WriteLine($"Asked the agent to terminate its persistent connection; it retries in {reconnectAfter} s.");
        return 0;
    }
}

/// <summary>The Network Status panel as text, in the product's words.</summary>
internal static class NetworkStatusText
{
    public static string Format(NetworkStatus s, DateTime asOfUtc)
    {
        var w = new System.Text.StringBuilder();
        w.AppendLine($"Network Status (as of {asOfUtc:u})");
        Line(w, "Notification Server:", $"{s.Availability}{(s.ServerAddress is null ? "" : $" ({s.ServerAddress})")}{Tls(s.TlsProtocol, s.CipherSuite)}");
        Line(w, "CEM Mode:", $"{s.CemState}{Tls(s.GatewayTlsProtocol, s.GatewayCipherSuite)}");
        Line(w, "Server Connection:", $"{s.TransportDetail ?? (s.Transport == TransportKind.Persistent ? "Persistent" : "HTTP")} Sent: {Kb(s.BytesSent)} Received: {Kb(s.BytesReceived)}");
        if (s.RouteReason is not null)
        {
            Line(w, "Route:", s.RouteReason);
        }

        if (ProxyLine(s) is { } proxy)
        {
            Line(w, "Proxy:", proxy);
        }

        if (s.TaskServer is { } ts)
        {
            Line(w, "Task Server:", $"{ts.Availability}{(ts.ServerAddress is null ? "" : $" ({ts.ServerAddress})")}, {(ts.Transport == TransportKind.Persistent ? "Persistent" : "HTTP")}");
        }

        return w.ToString();

        static string? ProxyLine(NetworkStatus s) =>
            s.Proxy is null && s.ProxyProblem is null ? null : $"{(s.Proxy is { } via ? $"via proxy {via}" : "direct")}{(s.ProxyProblem is { } problem ? $" ({problem})" : "")}";
        static string Tls(string? protocol, string? cipher) => protocol is null ? "" : $" Cryptographic protocol: {protocol} Cipher suite: {cipher}";
        static string Kb(long bytes) => $"{bytes / 1024.0:0.00} KB";
        static void Line(System.Text.StringBuilder w, string label, string text) => w.Append(label.PadRight(21)).AppendLine(text);
    }
}
