using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;

namespace Tcm.Functional.Tests.ByHand;

/// <summary>
/// The real <c>tcm</c> executable in a process of its own, as a user runs it from a terminal: <c>dotnet tcm.dll ...</c> in a
/// working folder, its output collected line by line. Disposing kills a process that is still running.
/// </summary>
internal sealed partial class TcmProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();

    private TcmProcess(Process process) => _process = process;

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Whether the process has ended (exited, or been killed).</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>tcm</c> with <paramref name="arguments"/> in <paramref name="workingDirectory"/>.</summary>
    public static TcmProcess Start(string workingDirectory, params string[] arguments)
    {
        var hostDll = Path.Combine(AppContext.BaseDirectory, "tcm.dll");
        if (!File.Exists(hostDll))
        {
            throw new InvalidOperationException($"tcm.dll is not beside the tests ({AppContext.BaseDirectory}): the test project references system/Tcm.Host, build it again");
        }

        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(hostDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = new Process { StartInfo = start };
        var tcm = new TcmProcess(process);
        process.OutputDataReceived += (_, e) => tcm.Append(e.Data);
        process.ErrorDataReceived += (_, e) => tcm.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return tcm;
    }

    /// <summary>Runs <c>tcm</c> to its end (within <paramref name="deadline"/>) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, TimeSpan deadline, params string[] arguments)
    {
        await using var tcm = Start(workingDirectory, arguments);
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await tcm._process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"tcm {string.Join(' ', arguments)} did not end within {deadline.TotalSeconds:0} s; output:\n{tcm.Output}");
        }

        return (tcm._process.ExitCode, tcm.Output);
    }

    /// <summary>Waits until a line of output satisfies <paramref name="match"/> and returns that line.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan deadline, string what)
    {
        var line = await Eventually.WaitAsync<string?>(
            () => Output.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(match),
            found => found is not null || _process.HasExited,
            deadline,
            what);
        return line ?? throw new InvalidOperationException($"tcm exited ({_process.ExitCode}) before {what}; output:\n{Output}");
    }

    /// <summary>
    /// Waits until <c>tcm ns</c> says it listens (its own line, printed once it has started, not Kestrel's "Now listening on") and
    /// returns the port.
    /// </summary>
    public async Task<int> WaitForListeningPortAsync(TimeSpan deadline)
    {
        var line = await WaitForLineAsync(l => ListeningPort().IsMatch(l), deadline, "the Notification Server to listen");
        return int.Parse(ListeningPort().Match(line).Groups["port"].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>Ends the process at once, as a crash or a power cut would: no shutdown, no goodbye to its connections.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    /// <summary>A client of the admin API of the <c>tcm ns</c> at <paramref name="server"/>, trusting its <paramref name="ca"/>, with <paramref name="key"/>.</summary>
    public static HttpClient AdminHttp(string server, string key, X509Certificate2 ca)
    {
        var http = ServerHttp(server, ca);
        http.DefaultRequestHeaders.Add(ProtocolConstants.AdminKeyHeader, key);
        return http;
    }

    /// <summary>A client of the <c>tcm ns</c> at <paramref name="server"/>, trusting its <paramref name="ca"/>, with no key of its own.</summary>
    public static HttpClient ServerHttp(string server, X509Certificate2 ca)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => ServerTrust.ValidateServer(certificate, errors, ca);
        return new HttpClient(handler) { BaseAddress = new Uri(server), Timeout = TimeSpan.FromSeconds(30) };
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _output.AppendLine(line);
        }
    }

    // why: under `dotnet test` this process is the test host, not dotnet; the SDK tells where its dotnet is.
    private static string DotnetHost()
    {
        if (Environment.ProcessPath is { } current && Path.GetFileNameWithoutExtension(current).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return current;
        }

        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } fromSdk && File.Exists(fromSdk) ? fromSdk : "dotnet";
    }

    [GeneratedRegex(@"^Notification Server '.*' listening on https://[^/]+:(?<port>\d+)$")]
    private static partial Regex ListeningPort();
}
