using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Tcm.Functional.Tests.Infrastructure;

/// <summary>
/// Debian's <c>tinyproxy</c> (apt package <c>tinyproxy</c>, installed by <c>.ci/run</c>): a CONNECT proxy no one here wrote, started on a
/// free loopback port with a temporary configuration (only 127.0.0.1 may use it, CONNECT only to the given ports, Basic
/// credentials when given), stopped and its folder removed on dispose.
/// </summary>
internal sealed class Tinyproxy : IAsyncDisposable
{
    /// <summary>Where the apt package puts it.</summary>
    public const string Path = "/usr/bin/tinyproxy";

    /// <summary>What a run without it says.</summary>
    public const string MissingMessage = "tinyproxy not found at /usr/bin/tinyproxy: .ci/run installs the 'tinyproxy' apt package";

    private readonly Process _process;
    private readonly string _folder;

    private Tinyproxy(Process process, string folder, int port)
    {
        _process = process;
        _folder = folder;
        Port = port;
    }

    public int Port { get; }

    /// <summary><c>http://127.0.0.1:port</c>, as a profile names it.</summary>
    public string Address => $"http://127.0.0.1:{Port}";

    /// <summary>The reason to skip a tinyproxy test: null when it is installed, or under CI (where the test fails instead).</summary>
    public static string? SkipReason =>
        File.Exists(Path) || string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
            ? null
            : MissingMessage + " (skipped outside CI; with CI=true this test fails instead)";

    /// <summary>
    /// Starts tinyproxy (on <paramref name="port"/>, else a free one) and waits until it accepts connections; fails with
    /// <see cref="MissingMessage"/> when it is not installed.
    /// </summary>
    public static async Task<Tinyproxy> StartAsync(IEnumerable<int> connectPorts, NetworkCredential? credentials = null, int? port = null)
    {
        if (!File.Exists(Path))
        {
            throw new InvalidOperationException(MissingMessage);
        }

        var folder = Directory.CreateTempSubdirectory("tcm-tinyproxy-").FullName;
        var listenPort = port ?? LoopbackPorts.Free();
        var config = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"Port {listenPort}")
            .AppendLine("Listen 127.0.0.1")
            .AppendLine("Timeout 600")
            .AppendLine("Allow 127.0.0.1")
            .AppendLine("MaxClients 200")
            .AppendLine("LogLevel Info")
            .AppendLine(CultureInfo.InvariantCulture, $"LogFile \"{System.IO.Path.Combine(folder, "tinyproxy.log")}\"");
        foreach (var connectPort in connectPorts.Distinct())
        {
            config.AppendLine(CultureInfo.InvariantCulture, $"ConnectPort {connectPort}");
        }

        if (credentials is not null)
        {
            config.AppendLine(CultureInfo.InvariantCulture, $"BasicAuth {credentials.UserName} {credentials.Password}");
        }

        var configFile = System.IO.Path.Combine(folder, "tinyproxy.conf");
        await File.WriteAllTextAsync(configFile, config.ToString());
        var process = Process.Start(new ProcessStartInfo(Path, ["-d", "-c", configFile]) { RedirectStandardOutput = true, RedirectStandardError = true })
            ?? throw new InvalidOperationException("tinyproxy did not start");
        var proxy = new Tinyproxy(process, folder, listenPort);
        try
        {
            await Eventually.WaitAsync(async ct =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"tinyproxy exited with {process.ExitCode}: {await process.StandardError.ReadToEndAsync(ct)}");
                }

                try
                {
                    using var probe = await TcpDial.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listenPort), ct);
                    return true;
                }
                catch (SocketException)
                {
                    return false;
                }
            }, ready => ready, TimeSpan.FromSeconds(10), "tinyproxy to listen");
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }

        return proxy;
    }

    /// <summary>tinyproxy's own log: each CONNECT it served is there.</summary>
    public string Log => File.Exists(System.IO.Path.Combine(_folder, "tinyproxy.log")) ? ReadShared(System.IO.Path.Combine(_folder, "tinyproxy.log")) : "";

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>A test that needs <see cref="Tinyproxy"/>: skipped with the reason when it is missing outside CI, failing under <c>CI=true</c>.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class TinyproxyTheoryAttribute : TheoryAttribute
{
    public TinyproxyTheoryAttribute() => Skip = Tinyproxy.SkipReason;
}

/// <inheritdoc cref="TinyproxyTheoryAttribute"/>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class TinyproxyFactAttribute : FactAttribute
{
    public TinyproxyFactAttribute() => Skip = Tinyproxy.SkipReason;
}
