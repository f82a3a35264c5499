using System.Diagnostics;
using System.Globalization;
using System.Reflection;
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

    private readonly string _role;
    private readonly Func<int, IReadOnlyList<string>> _arguments;
    private readonly TextWriter _log;
    private Process? _process;

    private TcmHostProcess(string role, string dataFolder, Func<int, IReadOnlyList<string>> arguments, TextWriter log)
    {
        _role = role;
        DataFolder = dataFolder;
        _arguments = arguments;
        _log = log;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Kill();
    }

    /// <summary>The port the server listens on (0 until started).</summary>
    public int Port { get; private set; }

    /// <summary>The child's process id (0 when not running).</summary>
    public int ProcessId => _process?.Id ?? 0;

    /// <summary>The data folder.</summary>
    public string DataFolder { get; }

    /// <summary>
    /// <c>tcm ns --data DIR --port P --tcm-on-first-run true</c>: once listening, <c>ca.pem</c> and <c>agent-package.json</c>
    /// are in <paramref name="dataFolder"/>.
    /// </summary>
    public static TcmHostProcess NotificationServer(string dataFolder, string adminKey, TextWriter log) =>
        new("Notification Server", dataFolder, port =>
        [
            "ns", "--data", dataFolder, "--port", port.ToString(CultureInfo.InvariantCulture), "--listen", "127.0.0.1",
            "--name", "NS-load", "--admin-key", adminKey, "--tcm-on-first-run", "true",
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

    /// <summary>The <c>tcm.dll</c> this build runs: <c>TCM_HOST_DLL</c>, else <c>system/Tcm.Host/bin/&lt;configuration&gt;/net10.0/tcm.dll</c> (built with this project).</summary>
    public static string HostPath()
    {
        if (Environment.GetEnvironmentVariable(HostPathVariable) is { Length: > 0 } overridden)
        {
            return overridden;
        }

        var built = typeof(TcmHostProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "TcmHostPath")?.Value;
        return built is null ? "tcm.dll" : Path.GetFullPath(built);
    }

    /// <summary>Null when the servers can be started; otherwise why not.</summary>
    public static string? UnavailableReason()
    {
        var path = HostPath();
        return File.Exists(path)
            ? null
            : $"the TCM server host '{path}' is not built: run 'dotnet build -c Release system/Tcm.Host' (or set {HostPathVariable})";
    }

    /// <summary>Starts the server on <paramref name="port"/> (0 for any free port) and waits until it listens.</summary>
    public async Task StartAsync(int port, CancellationToken cancellationToken)
    {
        if (UnavailableReason() is { } why)
        {
            throw new InvalidOperationException(why);
        }

        var start = new ProcessStartInfo(SelfLauncher.DotnetHost()) { UseShellExecute = false };
        start.ArgumentList.Add(HostPath());
        foreach (var argument in _arguments(port))
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add("--Logging:LogLevel:Default=Warning");
        start.ArgumentList.Add("--Logging:LogLevel:Microsoft.Hosting.Lifetime=Warning");
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_gcServer"] = "0";
        start.Environment["DOTNET_gcConcurrent"] = "1";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start the {_role} process.");
        _process = process;
        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (stderr)
            {
                if (stderr.Length < 8000)
                {
                    stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        var output = new System.Text.StringBuilder();
        while (true)
        {
            string? line;
            try
            {
                line = await process.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                line = null;
            }

            if (line is null)
            {
                Kill();
                string errors;
                lock (stderr)
                {
                    errors = stderr.ToString();
                }

                throw new InvalidOperationException($"The {_role} process ({HostPath()} {_arguments(port)[0]}) did not start: {output}{errors}".TrimEnd());
            }

            if (output.Length < 4000)
            {
                output.AppendLine(line);
            }

            if (ListeningLine().Match(line) is { Success: true } match)
            {
                Port = int.Parse(match.Groups["port"].Value, CultureInfo.InvariantCulture);
                _log.WriteLine($"{_role} process {process.Id} listening on port {Port} (data {DataFolder})");
                _ = DrainAsync(process);
                return;
            }
        }
    }

    /// <summary>The child's working set now; zero when it is not running.</summary>
    public long WorkingSet()
    {
        try
        {
            if (_process is { HasExited: false } process)
            {
                process.Refresh();
                return process.WorkingSet64;
            }
        }
        catch (InvalidOperationException)
        {
            // Gone meanwhile.
        }

        return 0;
    }

    /// <summary>The child's CPU time so far; zero when it is not running.</summary>
    public TimeSpan CpuTime()
    {
        try
        {
            if (_process is { HasExited: false } process)
            {
                process.Refresh();
                return process.TotalProcessorTime;
            }
        }
        catch (InvalidOperationException)
        {
            // Gone meanwhile.
        }

        return TimeSpan.Zero;
    }

    /// <summary>Kills the server (as a crash would): every connection drops without a goodbye.</summary>
    public void Kill()
    {
        var process = Interlocked.Exchange(ref _process, null);
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        return ValueTask.CompletedTask;
    }

    private static async Task DrainAsync(Process process)
    {
        try
        {
            while (await process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is not null)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The process ended.
        }
    }

    /// <summary>A lifetime with nothing to end (a server this process did not start).</summary>
    internal sealed class Nothing : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [GeneratedRegex(@"listening on https?://[^\s:/]+:(?<port>\d+)")]
    private static partial Regex ListeningLine();
}
