using System.Net;
using System.Net.Sockets;
using Npgsql;
using Tcm.Lab.Admin;
using Tcm.Lab.Storage;
using Tcm.LoadTests.Harness.Cpu;
using Tcm.Protocol.Admin;

namespace Tcm.LoadTests.TcmVariant.Server;

/// <summary>
/// The Notification Server on PostgreSQL, as <see cref="NsDeployment"/> asks: a throwaway PostgreSQL server (or the given one) with a
/// fresh database for the run, node 1 (<c>tcm ns --store ...</c>, its data folder <c>node1</c> under the run's) started at once, and
/// nodes 2 to N on the same database, the same admin key and a copy of node 1's CA (<c>ca.pfx</c>, so every node's certificate and
/// every agent's chain to it), each its own port and node name.
/// <para>
/// Agents are spread evenly: agent <c>i</c> carries the attribute <see cref="NodeAttribute"/> = <c>i mod N + 1</c>, and a
/// communication profile per node after the first (made on node 1 before the others start: a node reads profiles when it starts)
/// lists that node as the agents' server host, so an agent registered on node 1 connects to its own node. The other nodes start
/// only after the fleet is registered (<see cref="StartOtherNodesAsync"/>), since a node reads the agents it knows when it starts.
/// </para>
/// </summary>
internal sealed class NsCluster : IAsyncDisposable
{
    /// <summary>The agent attribute naming the node (1 to N) an agent connects to.</summary>
    public const string NodeAttribute = "loadtest-node";

    private readonly NsDeployment _deployment;
    private readonly string _folder;
    private readonly string _adminKey;
    private readonly TextWriter _log;
    private readonly List<TcmHostProcess> _others = [];
    private PostgresServer? _server;
    private PostgresDatabase? _database;
    private int[] _ports = [];

    private NsCluster(NsDeployment deployment, string folder, string adminKey, TextWriter log) =>
        (_deployment, _folder, _adminKey, _log) = (deployment, folder, adminKey, log);

    /// <summary>Node 1, started by <see cref="StartAsync"/>; disposing the cluster does not stop it (its owner does).</summary>
    public StartedNotificationServer First { get; private set; } = null!;

    /// <summary>The nodes in all.</summary>
    public int Nodes => _deployment.Nodes;

    /// <summary>The postmaster of the PostgreSQL server (its backends are its children), or 0 when it is not on this machine.</summary>
    public int PostgresProcessId { get; private set; }

    /// <summary>Whether nodes 2 to N run.</summary>
    public bool OthersStarted => _others.Count == Nodes - 1;

    /// <summary>The process ids of nodes 2 to N (empty until they start).</summary>
    public IReadOnlyList<int> OtherNodeProcessIds => _others.Select(p => p.ProcessId).ToList();

    /// <summary>Starts PostgreSQL (unless given), the run's database and node 1 in <paramref name="folder"/>/node1.</summary>
    public static async Task<NsCluster> StartAsync(NsDeployment deployment, string folder, string adminKey, TextWriter log, CancellationToken cancellationToken)
    {
        var cluster = new NsCluster(deployment, folder, adminKey, log);
        try
        {
            var admin = deployment.PostgresAdmin;
            if (admin is null)
            {
                cluster._server = await PostgresServer.StartAsync(ct: cancellationToken).ConfigureAwait(false);
                // why: a load test stopped hard (Ctrl+C twice, a kill) runs no dispose; the server must not outlive it.
                cluster._server.StopWhenProcessEnds();
                admin = cluster._server.AdminConnectionString;
            }

            cluster._database = await PostgresDatabase.CreateAsync(admin, "tcm_load", cancellationToken).ConfigureAwait(false);
            cluster.PostgresProcessId = await PostmasterAsync(cluster._database.ConnectionString, cancellationToken).ConfigureAwait(false);
            Directory.CreateDirectory(NodeFolder(folder, 1));
            cluster.First = await StartedNotificationServer.StartAsync(
                NodeFolder(folder, 1), adminKey, log, cancellationToken, (cluster._database.ConnectionString, NodeName(1))).ConfigureAwait(false);
            cluster._ports = [.. Enumerable.Range(2, deployment.Nodes - 1).Select(_ => FreePort())];
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The node (1 to N) agent <paramref name="agentIndex"/> connects to; warm-up agents (negative numbers) go to node 1.</summary>
    public int NodeOf(int agentIndex) => agentIndex < 0 ? 1 : agentIndex % Nodes + 1;

    /// <summary>Node <paramref name="node"/>'s name in the store and the admin API.</summary>
    public static string NodeName(int node) => $"load-node{node.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Makes, through node 1, the profile of every further node: its agents (by <see cref="NodeAttribute"/>) call it directly.</summary>
    public async Task AddNodeProfilesAsync(AdminClient admin, CancellationToken cancellationToken)
    {
        for (var node = 2; node <= Nodes; node++)
        {
            var number = node.ToString(CultureInfo.InvariantCulture);
            await admin.SaveProfileAsync(
                new CommunicationProfile
                {
                    Name = $"load test: node {number}",
                    Priority = 1,
                    ServerHosts = [$"localhost:{_ports[node - 2].ToString(CultureInfo.InvariantCulture)}"],
                    Targets = new Targets { Rules = [new TargetRule(NodeAttribute, number)] },
                },
                cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Starts nodes 2 to N on their reserved ports, each with a copy of node 1's CA.</summary>
    public async Task StartOtherNodesAsync(CancellationToken cancellationToken)
    {
        for (var node = 2 + _others.Count; node <= Nodes; node++)
        {
            var folder = NodeFolder(_folder, node);
            Directory.CreateDirectory(folder);
            File.Copy(Path.Combine(NodeFolder(_folder, 1), "ca.pfx"), Path.Combine(folder, "ca.pfx"));
            var started = await StartedNotificationServer.StartAsync(
                folder, _adminKey, _log, cancellationToken, (_database!.ConnectionString, NodeName(node)), _ports[node - 2]).ConfigureAwait(false);
            _others.Add(started.Process);
        }
    }

    /// <summary>Stops nodes 2 to N, drops the run's database and stops the PostgreSQL server the run started.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var node in _others)
        {
            await node.DisposeAsync().ConfigureAwait(false);
        }

        _others.Clear();
        if (_database is not null)
        {
            await _database.DisposeAsync().ConfigureAwait(false);
        }

        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static string NodeFolder(string folder, int node) => Path.Combine(folder, $"node{node.ToString(CultureInfo.InvariantCulture)}");

    // The backend serving this connection is a child of the postmaster: its parent is the process whose tree is PostgreSQL's cost.
    // A server elsewhere has no process here to read.
    private static async Task<int> PostmasterAsync(string connectionString, CancellationToken cancellationToken)
    {
        var host = new NpgsqlConnectionStringBuilder(connectionString).Host ?? "";
        if (!(host.StartsWith('/') || host is "localhost" || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address))))
        {
            return 0;
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
        var backend = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        return ProcessCpu.ParentOf(backend) ?? 0;
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
