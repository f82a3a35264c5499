using System.Text.RegularExpressions;
using Tcm.LoadTests.Baseline.Server;

namespace Tcm.LoadTests.TcmVariant.Server;

/// <summary>
/// A product server in its own process: <c>dotnet tcm.dll &lt;role&gt; ...</c> (<see cref="NotificationServer"/>,
/// <see cref="Gateway"/>), logging at Warning, workstation concurrent GC like the baseline server (the product's default is
/// server GC; the ratio should measure TCM's logic, not the GC mode). Ready when it prints its "listening on" line.
/// <see cref="Kill"/> is a crash; the child is also killed when this process exits.
/// </summary>
internal sealed partial class TcmHostProcess : IAsyncDisposable
{
    /// <summary>Environment variable that points at a <c>tcm.dll</c> to use instead of the one built beside the repo.</summary>
    public const string HostPathVariable = "TCM_HOST_DLL";

    private readonly Func<int, IReadOnlyList<string>> _arguments;
    private readonly ServerChildProcess _child;

    private TcmHostProcess(string role, string dataFolder, Func<int, IReadOnlyList<string>> arguments, TextWriter log)
    {
        DataFolder = dataFolder;
        _arguments = arguments;
        _child = new ServerChildProcess(role, log);
    }

    /// <summary>The port the server listens on (0 until started).</summary>
    public int Port => _child.Port;

    /// <summary>The child's process id (0 when not running).</summary>
    public int ProcessId => _child.ProcessId;

    /// <summary>The data folder.</summary>
    public string DataFolder { get; }

    /// <summary>
    /// <c>tcm ns --data DIR --port P --tcm-on-first-run true</c>: once listening, <c>ca.pem</c> and <c>agent-package.json</c>
    /// are in <paramref name="dataFolder"/>. With <paramref name="node"/>, one node of several: its store (<c>--store</c>, a
    /// PostgreSQL connection string) and its node name.
    /// </summary>
    public static TcmHostProcess NotificationServer(string dataFolder, string adminKey, TextWriter log, (string Store, string Name)? node = null) =>
        new(node is { } n ? $"Notification Server {n.Name}" : "Notification Server", dataFolder, port =>
        [
            "ns", "--data", dataFolder, "--port", port.ToString(CultureInfo.InvariantCulture), "--listen", "127.0.0.1",
            "--name", "NS-load", "--admin-key", adminKey, "--tcm-on-first-run", "true",
            .. node is { } n2 ? (string[])["--store", n2.Store, $"--NotificationServer:NodeName={n2.Name}"] : [],
        ], log);

    /// <summary>
    /// <c>tcm ts</c> registered with the Notification Server at <paramref name="notificationServerUrl"/> with
    /// <paramref name="registrationToken"/>, published as <c>localhost</c>, accepting <paramref name="maxAgents"/>.
    /// </summary>
    public static TcmHostProcess TaskServer(string dataFolder, string notificationServerUrl, string caFile, string registrationToken, int maxAgents, TextWriter log) =>
        new("Task Server", dataFolder, port =>
        [
            "ts", "--data", dataFolder, "--port", port.ToString(CultureInfo.InvariantCulture), "--listen", "127.0.0.1",
            "--public-host", "localhost", "--ns", notificationServerUrl, "--ns-ca", caFile, "--token", registrationToken,
            "--max-agents", maxAgents.ToString(CultureInfo.InvariantCulture),
        ], log);

    /// <summary>
    /// <c>tcm gateway</c> in front of the Notification Server at <paramref name="notificationServer"/> (<c>host:port</c> as
    /// agents name it, dialled on 127.0.0.1), registering with <paramref name="registrationToken"/> on first start, and of
    /// the Task Server at <paramref name="taskServer"/> when there is one.
    /// </summary>
    public static TcmHostProcess Gateway(string dataFolder, string adminKey, string notificationServer, string registrationToken, string? taskServer, TextWriter log)
    {
        static string Port(string hostAndPort) => new Uri("https://" + hostAndPort).Port.ToString(CultureInfo.InvariantCulture);
        return new("CEM gateway", dataFolder, port =>
        {
            List<string> arguments =
            [
                "gateway", "--data", dataFolder, "--port", port.ToString(CultureInfo.InvariantCulture), "--listen", "127.0.0.1",
                "--public-host", "localhost", "--name", "gw-load", "--admin-key", adminKey,
                // Backends as configuration (not --ns/--ts): agents name them by their published host, the gateway dials loopback.
                "--Gateway:Backends:0:Name=ns", $"--Gateway:Backends:0:Address={notificationServer}", "--Gateway:Backends:0:Kind=NotificationServer",
                $"--Gateway:Backends:0:RegistrationToken={registrationToken}", $"--Gateway:Backends:0:ConnectTo=127.0.0.1:{Port(notificationServer)}",
            ];
            if (taskServer is not null)
            {
                arguments.AddRange(
                [
                    "--Gateway:Backends:1:Name=ts1", $"--Gateway:Backends:1:Address={taskServer}", "--Gateway:Backends:1:Kind=TaskServer",
                    "--Gateway:Backends:1:Identity=ns", $"--Gateway:Backends:1:ConnectTo=127.0.0.1:{Port(taskServer)}",
                ]);
            }

            return arguments;
        }, log);
    }

    /// <summary>
    /// The <c>tcm.dll</c> this build runs: <c>TCM_HOST_DLL</c>, else the one beside this program (the load tests reference the
    /// host, so its output, with its runtimeconfig and deps, is copied into theirs in every configuration).
    /// </summary>
    public static string HostPath() =>
        Environment.GetEnvironmentVariable(HostPathVariable) is { Length: > 0 } overridden
            ? overridden
            : Path.Combine(AppContext.BaseDirectory, "tcm.dll");

    /// <summary>Null when the servers can be started; otherwise why not.</summary>
    public static string? UnavailableReason()
    {
        var path = HostPath();
        return File.Exists(path)
            ? null
            : $"the TCM server host '{path}' is missing: build the load tests again (they copy it from system/Tcm.Host), or set {HostPathVariable}";
    }

    /// <summary>Starts the server on <paramref name="port"/> (0 for any free port) and waits until it listens.</summary>
    public async Task StartAsync(int port, CancellationToken cancellationToken)
    {
        if (UnavailableReason() is { } why)
        {
            throw new InvalidOperationException(why);
        }

        var start = new ProcessStartInfo(SelfLauncher.DotnetHost());
        start.ArgumentList.Add(HostPath());
        var arguments = _arguments(port);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add("--Logging:LogLevel:Default=Warning");
        start.ArgumentList.Add("--Logging:LogLevel:Microsoft.Hosting.Lifetime=Warning");
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_gcServer"] = "0";
        start.Environment["DOTNET_gcConcurrent"] = "1";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        await _child.StartAsync(
            start,
            line => ListeningLine().Match(line) is { Success: true } match ? int.Parse(match.Groups["port"].Value, CultureInfo.InvariantCulture) : null,
            TimeSpan.FromSeconds(90),
            $"tcm {arguments[0]}, data {DataFolder}",
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Kills the server (as a crash would): every connection drops without a goodbye.</summary>
    public void Kill() => _child.Kill();

    public ValueTask DisposeAsync()
    {
        Kill();
        return ValueTask.CompletedTask;
    }

    [GeneratedRegex(@"listening on https?://[^\s:/]+:(?<port>\d+)")]
    private static partial Regex ListeningLine();
}
