namespace Tcm.LoadTests.Baseline.Server;

/// <summary>
/// The baseline server in its own process (<c>dotnet Tcm.LoadTests.dll serve-baseline --port P --pfx FILE</c>), so its
/// memory is measured alone and its sockets do not count against this process's open-file limit; or the bare relay in front of
/// it (<c>serve-relay</c>, <see cref="Relay"/>), in its own process as the gateway is. The child exits when its standard input
/// closes, so it never outlives the load test.
/// </summary>
internal sealed class BaselineServerProcess : IAsyncDisposable
{
    /// <summary>The line the child prints when it listens: <c>READY port=5001 pid=123</c>.</summary>
    public const string ReadyPrefix = "READY port=";

    private readonly string _command;
    private readonly string[] _arguments;
    private readonly ServerChildProcess _child;

    public BaselineServerProcess(string pfxPath, TextWriter log)
        : this("baseline server", "serve-baseline", ["--pfx", pfxPath], log)
    {
    }

    private BaselineServerProcess(string role, string command, string[] arguments, TextWriter log)
    {
        _command = command;
        _arguments = arguments;
        _child = new ServerChildProcess(role, log);
    }

    /// <summary>The bare relay (<c>serve-relay</c>) with the server certificate <paramref name="pfxPath"/>, to the bare server at <paramref name="upstream"/> signed by the CA in <paramref name="caPemPath"/>.</summary>
    public static BaselineServerProcess Relay(string pfxPath, Uri upstream, string caPemPath, TextWriter log) =>
        new("bare relay", "serve-relay", ["--pfx", pfxPath, "--upstream", upstream.ToString(), "--ca", caPemPath], log);

    /// <summary>The port the child listens on (0 until started).</summary>
    public int Port => _child.Port;

    /// <summary>The child's process id.</summary>
    public int ProcessId => _child.ProcessId;

    /// <summary>Starts the child on <paramref name="port"/> (0 for any) and waits until it listens.</summary>
    public Task StartAsync(int port, CancellationToken cancellationToken) =>
        _child.StartAsync(
            SelfLauncher.StartInfo([_command, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. _arguments]),
            line => line.StartsWith(ReadyPrefix, StringComparison.Ordinal)
                ? int.Parse(line[ReadyPrefix.Length..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)
                : null,
            TimeSpan.FromSeconds(60),
            detail: null,
            cancellationToken);

    /// <summary>Kills the child (as a crash would).</summary>
    public void Kill() => _child.Kill();

    public async ValueTask DisposeAsync()
    {
        if (_child.Process is { HasExited: false } process)
        {
            try
            {
                // Closing stdin asks the child to stop; kill it if it does not within a few seconds.
                process.StandardInput.Close();
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
            {
                // Fall through to kill.
            }
        }

        Kill();
    }
}

/// <summary>Starts this same program as a child process: <c>dotnet Tcm.LoadTests.dll ...</c>.</summary>
internal static class SelfLauncher
{
    /// <summary>A start description for this assembly with <paramref name="arguments"/>.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(DotnetHost()) { UseShellExecute = false };
        start.ArgumentList.Add(typeof(SelfLauncher).Assembly.Location);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return start;
    }

    /// <summary>The dotnet host: the one running us, else DOTNET_HOST_PATH, else <c>dotnet</c> on the path.</summary>
    public static string DotnetHost()
    {
        var current = Environment.ProcessPath;
        if (current is not null && Path.GetFileNameWithoutExtension(current).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return current;
        }

        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk) ? fromSdk : "dotnet";
    }
}
