using System.Security.Cryptography.X509Certificates;
using System.Text;
using Npgsql;
using Tcm.Functional.Tests.ByHand;

namespace Tcm.Functional.Tests.Nodes;

/// <summary>
/// One Notification Server node: the real <c>tcm ns</c> (<see cref="TcmProcess"/>) with <c>--store</c> on a PostgreSQL database other
/// nodes share, its own data folder, port, node name (<see cref="Name"/>) and public host name. It can be killed hard and started again
/// on the same folder, port and name, as an operator restarts a node that crashed.
/// </summary>
internal sealed class NsNode(string name, string dataFolder, int port, string store, string[] settings) : IAsyncDisposable
{
    /// <summary>The public host name every node has here: agents reach each node by <c>localhost:{port}</c>.</summary>
    public const string PublicHost = "localhost";

    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);

    private readonly StringBuilder _earlierRuns = new();
    private TcmProcess? _process;
    private HttpClient? _admin;
    private X509Certificate2? _ca;
    private int _runs;

    /// <summary>The node's name (<c>NotificationServer:NodeName</c>): what <see cref="AgentInfo.Node"/> shows for its agents.</summary>
    public string Name { get; } = name;

    /// <summary>The node's data folder (CA, admin key, install package; no database: that is the shared store).</summary>
    public string DataFolder { get; } = dataFolder;

    /// <summary>The HTTPS port the node listens on, the same across restarts.</summary>
    public int Port { get; } = port;

    /// <summary>The <c>host:port</c> a profile's <c>ServerHosts</c> names this node by.</summary>
    public string HostPort => $"{PublicHost}:{Port}";

    /// <summary>Whether the node's process runs.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The admin API of this node, with the admin key and the CA of its data folder.</summary>
    public HttpClient Admin => _admin ?? throw new InvalidOperationException($"node {Name} has not started yet");

    /// <summary>What every run of the node printed so far, for a failure's message.</summary>
    public string Output => _earlierRuns + (_process?.Output ?? "");

    /// <summary>
    /// Starts a node on <paramref name="dataFolder"/> (created when missing; copy the first node's CA and admin key in first, see
    /// <see cref="CopyIdentityTo"/>) and waits until it is ready. <paramref name="settings"/>: more of the node's settings, as
    /// <c>--NotificationServer:Key=value</c>.
    /// </summary>
    public static async Task<NsNode> StartAsync(string name, string dataFolder, int port, string store, params string[] settings)
    {
        Directory.CreateDirectory(dataFolder);
        var node = new NsNode(name, dataFolder, port, store, settings);
        try
        {
            await node.StartAsync();
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }

        return node;
    }

    /// <summary>
    /// Copies what makes a node one of the site's into <paramref name="dataFolder"/>: the CA (so every node's certificate, and every
    /// certificate any node issued, is trusted alike) and the admin key, as docs/architecture.md's "Adding a node" tells an operator.
    /// </summary>
    public void CopyIdentityTo(string dataFolder)
    {
        Directory.CreateDirectory(dataFolder);
        foreach (var file in new[] { "ca.pfx", "admin.key" })
        {
            File.Copy(Path.Combine(DataFolder, file), Path.Combine(dataFolder, file), overwrite: true);
        }
    }

    /// <summary>
    /// Starts the node's process (again, after <see cref="KillAsync"/>) and waits until it is ready: it says it listens, and it
    /// <c>LISTEN</c>s for the other nodes' signals on the database (before that, a push another node stores would pass it by).
    /// </summary>
    public async Task StartAsync()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"node {Name} runs already");
        }

        // why: the database tells this run's connections from a killed run's, whose sessions may linger a moment.
        var run = $"{Name}-run{++_runs}";
        var runStore = new NpgsqlConnectionStringBuilder(store) { ApplicationName = run }.ConnectionString;
        if (_process is { } previous)
        {
            _earlierRuns.Append(previous.Output).AppendLine($"---- {Name} killed; started again ----");
            await previous.DisposeAsync();
        }

        _process = TcmProcess.Start(DataFolder,
        [
            "ns", "--data", DataFolder, "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--public-host", PublicHost,
            "--name", Name, "--store", runStore, "--tcm-on-first-run", $"--NotificationServer:NodeName={Name}", .. settings,
        ]);
        await _process.WaitForListeningPortAsync(StartDeadline);
        await Eventually.WaitAsync(() => ListensAsync(run), listening => listening, StartDeadline,
            $"node {Name} to listen for the other nodes' signals", describe: _ => Output);
        _admin ??= CreateAdmin();
    }

    /// <summary>Kills the node's process at once (<see cref="System.Diagnostics.Process.Kill(bool)"/>): no shutdown, its channels just die.</summary>
    public Task KillAsync() => _process?.KillAsync() ?? Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        _admin?.Dispose();
        _ca?.Dispose();
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }

    private async Task<bool> ListensAsync(string run)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(store) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = @run AND query = 'LISTEN tcm_pushes'",
            connection);
        command.Parameters.AddWithValue("run", run);
        return (long)(await command.ExecuteScalarAsync())! > 0;
    }

    private HttpClient CreateAdmin()
    {
        var key = File.ReadAllText(Path.Combine(DataFolder, "admin.key")).Trim();
        _ca = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(DataFolder, "ca.pem")));
        return TcmProcess.AdminHttp($"https://{HostPort}", key, _ca);
    }
}
