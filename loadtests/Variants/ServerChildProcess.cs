namespace Tcm.LoadTests.Variants;

/// <summary>
/// A server the load test runs in a child process: started with its output redirected, ready when a line of its standard
/// output gives its port, killed (as a crash would) on <see cref="Kill"/> and when this process exits. Its standard error is
/// kept (the first 8,000 characters) for the message when it does not start.
/// </summary>
internal sealed class ServerChildProcess
{
    private readonly string _role;
    private readonly TextWriter _log;
    private Process? _process;

    /// <param name="role">What the child is, for messages ("Notification Server", "baseline server").</param>
    /// <param name="log">Where the "listening on port" line goes.</param>
    public ServerChildProcess(string role, TextWriter log)
    {
        _role = role;
        _log = log;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Kill();
    }

    /// <summary>The port the child listens on (0 until started).</summary>
    public int Port { get; private set; }

    /// <summary>The running child, or null.</summary>
    public Process? Process => _process;

    /// <summary>The child's process id (0 when not running).</summary>
    public int ProcessId => _process?.Id ?? 0;

    /// <summary>
    /// Starts <paramref name="start"/> and waits (at most <paramref name="timeout"/>) for a line of its standard output for
    /// which <paramref name="readyPort"/> returns the port; then drains the rest of its output. Throws with the child's
    /// output and errors when it ends or times out first.
    /// </summary>
    public async Task StartAsync(ProcessStartInfo start, Func<string, int?> readyPort, TimeSpan timeout, string? detail, CancellationToken cancellationToken)
    {
        start.UseShellExecute = false;
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        Cli.LoadProcessRuntime.RemoveFrom(start.Environment);

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

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var output = new System.Text.StringBuilder();
        while (true)
        {
            string? line;
            try
            {
                line = await process.StandardOutput.ReadLineAsync(deadline.Token).ConfigureAwait(false);
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

                throw new InvalidOperationException($"The {_role} process{(detail is null ? "" : $" ({detail})")} did not start: {output}{errors}".TrimEnd());
            }

            if (output.Length < 4000)
            {
                output.AppendLine(line);
            }

            if (readyPort(line) is { } port)
            {
                Port = port;
                _log.WriteLine($"{_role} process {process.Id} listening on port {Port}{(detail is null ? "" : $" ({detail})")}");
                _ = DrainAsync(process);
                return;
            }
        }
    }

    /// <summary>Kills the child (as a crash would): every connection drops without a goodbye.</summary>
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
