using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace Tcm.Lab.Storage;

/// <summary>
/// A throwaway PostgreSQL server: <c>initdb</c> into a new temporary folder, <c>pg_ctl start</c> on its own free port,
/// listening on 127.0.0.1 only (its Unix socket in that folder), fsync off; stopped and its folder removed on dispose.
/// PostgreSQL refuses to run as root, so under root every PostgreSQL program runs as the unprivileged user <c>nobody</c>
/// (through <c>setpriv</c>) and the folder is handed to it. The superuser <c>postgres</c> signs in with a random password.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    /// <summary>Where Debian's <c>postgresql-15</c> package puts the server programs.</summary>
    public const string DefaultBinDirectory = "/usr/lib/postgresql/15/bin";

    /// <summary>The unprivileged user a root process runs the server as.</summary>
    public const string UnprivilegedUser = "nobody";

    private const string SuperUser = "postgres";
    private const string SetPriv = "/usr/bin/setpriv";
    private const string SetSid = "/usr/bin/setsid";

    private readonly string _binDirectory;
    private readonly RunAs? _runAs;
    private int _disposed;

    private PostgresServer(string binDirectory, RunAs? runAs, string folder, int port, string password)
    {
        _binDirectory = binDirectory;
        _runAs = runAs;
        Folder = folder;
        Port = port;
        AdminConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = IPAddress.Loopback.ToString(),
            Port = port,
            Username = SuperUser,
            Password = password,
            Database = "postgres",
        }.ConnectionString;
    }

    /// <summary>The temporary folder holding the cluster (<c>data</c>), its log (<c>postgres.log</c>) and its socket.</summary>
    public string Folder { get; }

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

    /// <summary>A connection string of the superuser on the <c>postgres</c> database: it may create and drop databases.</summary>
    public string AdminConnectionString { get; }

    /// <summary>
    /// Why a server cannot be started from <paramref name="binDirectory"/> by this process, or null when it can: the programs
    /// are missing, or the process is root and has no <c>setpriv</c> or no <see cref="UnprivilegedUser"/> to run them as.
    /// </summary>
    public static string? UnavailableReason(string binDirectory = DefaultBinDirectory)
    {
        if (OperatingSystem.IsWindows())
        {
            return "the throwaway PostgreSQL server runs on Linux only";
        }

        if (!File.Exists(Path.Combine(binDirectory, "initdb")) || !File.Exists(Path.Combine(binDirectory, "pg_ctl")))
        {
            return $"PostgreSQL's initdb and pg_ctl are not in {binDirectory} (Debian package postgresql-15)";
        }

        if (Environment.UserName != "root")
        {
            return null;
        }

        return !File.Exists(SetPriv) ? $"the process runs as root, PostgreSQL refuses root, and {SetPriv} is missing to run it as {UnprivilegedUser}"
            : RunAs.Find(UnprivilegedUser) is null ? $"the process runs as root, PostgreSQL refuses root, and there is no user '{UnprivilegedUser}' to run it as"
            : null;
    }

    /// <summary>Creates and starts a server; fails with the reason, and PostgreSQL's own words, when it cannot.</summary>
    public static async Task<PostgresServer> StartAsync(string binDirectory = DefaultBinDirectory, CancellationToken ct = default)
    {
        if (UnavailableReason(binDirectory) is { } reason)
        {
            throw new InvalidOperationException("Cannot start a PostgreSQL server: " + reason + ".");
        }

        var runAs = Environment.UserName == "root" ? RunAs.Find(UnprivilegedUser) : null;
        var folder = Directory.CreateTempSubdirectory("tcm-postgres-").FullName;
        var server = new PostgresServer(binDirectory, runAs, folder, FreePort(), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        try
        {
            await server.InitializeAsync(ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private string DataFolder => Path.Combine(Folder, "data");

    private string LogFile => Path.Combine(Folder, "postgres.log");

    private async Task InitializeAsync(CancellationToken ct)
    {
        if (_runAs is { } user)
        {
            // why: the temporary folder is root's (mode 700); the server's user must own it to create its cluster there.
            await RunAsync("/bin/chown", [$"{user.Uid}:{user.Gid}", Folder], asServer: false, ct);
        }

        var passwordFile = Path.Combine(Folder, "password");
        await File.WriteAllTextAsync(passwordFile, new NpgsqlConnectionStringBuilder(AdminConnectionString).Password, ct);
        try
        {
            await RunAsync(Path.Combine(_binDirectory, "initdb"),
                ["-D", DataFolder, "-U", SuperUser, "--pwfile", passwordFile, "--auth-host=scram-sha-256", "--auth-local=peer",
                 "-E", "UTF8", "--locale=C", "--no-sync"], asServer: true, ct);
        }
        finally
        {
            File.Delete(passwordFile);
        }

        var settings = string.Join(' ',
            $"-c listen_addresses={IPAddress.Loopback}",
            $"-p {Port.ToString(CultureInfo.InvariantCulture)}",
            $"-c unix_socket_directories={Folder}",
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            "-c max_connections=300");
        await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["-D", DataFolder, "-l", LogFile, "-o", settings, "-w", "-t", "60", "start"], asServer: true, ct);
    }

    /// <summary>Stops the server at once (a throwaway server keeps nothing worth a clean shutdown) and removes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (File.Exists(Path.Combine(DataFolder, "postmaster.pid")))
        {
            try
            {
                await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["-D", DataFolder, "-m", "immediate", "-w", "stop"], asServer: true, CancellationToken.None);
            }
            catch (InvalidOperationException)
            {
                // why: a server that already died leaves nothing to stop; its folder still goes.
            }
        }

        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// Stops the server and removes its folder once this process has ended, however it ends (a test host is often killed
    /// rather than left to run its exit handlers): a detached watchdog shell checks every second whether the process lives.
    /// For a server kept for the process's whole life; disposing it earlier still works.
    /// </summary>
    public void StopWhenProcessEnds()
    {
        var stop = StartInfo(Path.Combine(_binDirectory, "pg_ctl"), ["-D", DataFolder, "-m", "immediate", "-w", "stop"], asServer: true);
        // why: in a session of its own (setsid) the watchdog is not in the process tree a test runner kills with its host.
        var detached = File.Exists(SetSid);
        var watchdog = new ProcessStartInfo(detached ? SetSid : "/bin/sh") { UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var argument in (string[])[.. detached ? ["-f", "/bin/sh"] : Array.Empty<string>(), "-c", WatchdogScript, "tcm-postgres-watchdog",
            Environment.ProcessId.ToString(CultureInfo.InvariantCulture), Folder, stop.FileName, .. stop.ArgumentList])
        {
            watchdog.ArgumentList.Add(argument);
        }

        using var started = Process.Start(watchdog) ?? throw new InvalidOperationException("the PostgreSQL watchdog did not start");
    }

    // $1: the process to outlive; $2: the folder to remove; the rest: the stop command.
    private const string WatchdogScript = """
        exec </dev/null >/dev/null 2>&1
        while kill -0 "$1"; do sleep 1; done
        folder=$2
        shift 2
        "$@"
        rm -rf "$folder"
        """;

    /// <summary>The server's log so far (what PostgreSQL said about a failure).</summary>
    public string ReadLog() => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    private async Task RunAsync(string program, IReadOnlyList<string> arguments, bool asServer, CancellationToken ct)
    {
        using var process = Process.Start(StartInfo(program, arguments, asServer)) ?? throw new InvalidOperationException($"{program} did not start");
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var errors = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await errors}{await output}{ReadLog()}");
        }
    }

    /// <summary><paramref name="program"/> with its arguments, as the server's user (through <c>setpriv</c>) when <paramref name="asServer"/> and this process is root.</summary>
    private ProcessStartInfo StartInfo(string program, IReadOnlyList<string> arguments, bool asServer)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Folder, UseShellExecute = false };
        if (asServer && _runAs is { } user)
        {
            start.FileName = SetPriv;
            foreach (var argument in (string[])[$"--reuid={user.Uid}", $"--regid={user.Gid}", "--clear-groups", "--", program])
            {
                start.ArgumentList.Add(argument);
            }
        }
        else
        {
            start.FileName = program;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    private static int FreePort()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }

    /// <summary>An account from <c>/etc/passwd</c>: the ids <c>setpriv</c> switches to.</summary>
    private sealed record RunAs(string Uid, string Gid)
    {
        public static RunAs? Find(string name) =>
            File.Exists("/etc/passwd")
                ? File.ReadLines("/etc/passwd").Select(line => line.Split(':')).Where(f => f.Length > 3 && f[0] == name).Select(f => new RunAs(f[2], f[3])).FirstOrDefault()
                : null;
    }
}
