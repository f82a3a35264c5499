using System.Diagnostics;

namespace Tcm.LoadTests.Baseline.Server;

/// <summary>
/// The baseline server in its own process (<c>dotnet Tcm.LoadTests.dll serve-baseline --port P --pfx FILE</c>), so its
/// memory is measured alone and its sockets do not count against this process's open-file limit. The child exits when its
/// standard input closes, so it never outlives the load test.
/// </summary>
internal sealed class BaselineServerProcess : IAsyncDisposable
{
    /// <summary>The line the child prints when it listens: <c>READY port=5001 pid=123</c>.</summary>
    public const string ReadyPrefix = "READY port=";

    private readonly string _pfxPath;
    private readonly TextWriter _log;
    private Process? _process;

    public BaselineServerProcess(string pfxPath, TextWriter log)
    {
        _pfxPath = pfxPath;
        _log = log;
    }

    /// <summary>The port the child listens on (0 until started).</summary>
    public int Port { get; private set; }

    /// <summary>The child's process id.</summary>
    public int ProcessId => _process?.Id ?? 0;

    /// <summary>Starts the child on <paramref name="port"/> (0 for any) and waits until it listens.</summary>
    public async Task StartAsync(int port, CancellationToken cancellationToken)
    {
        var start = SelfLauncher.StartInfo(["serve-baseline", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--pfx", _pfxPath]);
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the baseline server process.");
        _process = process;
        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                {
                    if (stderr.Length < 8000)
                    {
                        stderr.AppendLine(e.Data);
                    }
                }
            }
        };
        process.BeginErrorReadLine();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
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

                throw new InvalidOperationException($"The baseline server process did not start: {errors}".TrimEnd());
            }

            if (line.StartsWith(ReadyPrefix, StringComparison.Ordinal))
            {
                Port = int.Parse(line[ReadyPrefix.Length..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
                _log.WriteLine($"baseline server process {process.Id} listening on port {Port}");
                _ = DrainAsync(process);
                return;
            }
        }
    }

    /// <summary>Kills the child (as a crash would).</summary>
    public void Kill()
    {
        var process = _process;
        _process = null;
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

    public async ValueTask DisposeAsync()
    {
        var process = _process;
        if (process is not null && !process.HasExited)
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
