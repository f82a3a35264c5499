using System.Text.Json;
using Npgsql;
using Tcm.Lab.Storage;

namespace Tcm.Functional.Tests.Nodes;

/// <summary>
/// Two Notification Server nodes, <c>node-a</c> and <c>node-b</c>, each a real <c>tcm ns</c> process, on one fresh PostgreSQL database
/// (<see cref="TestPostgres"/>). Node A starts first and makes the site (the CA, the admin key, the install package); node B starts when
/// the test says (<see cref="StartBAsync"/>), from a copy of A's CA and key. Both ports are fixed up front, so a profile can name node B
/// before it runs. Disposing kills both, writes what they printed to the test's output and drops the database.
/// </summary>
internal sealed class NodePair(ITestOutputHelper output, TemporaryFolder folder, PostgresDatabase database, NsNode a, int portB) : IAsyncDisposable
{
    private NsNode? _b;

    /// <summary>Node A.</summary>
    public NsNode A { get; } = a;

    /// <summary>Node B, once started.</summary>
    public NsNode B => _b ?? throw new InvalidOperationException("node B has not started yet");

    /// <summary>The <c>host:port</c> node B has (or will have).</summary>
    public string HostPortB => $"{NsNode.PublicHost}:{portB}";

    /// <summary>Node A's install package (Default profile), as <c>tcm ns</c> wrote it into A's data folder.</summary>
    public InstallPackage Package { get; private set; } = null!;

    /// <summary>Creates the database and starts node A on it, with <paramref name="settingsA"/> (<c>--NotificationServer:Key=value</c>) if given.</summary>
    public static async Task<NodePair> StartAsync(ITestOutputHelper output, params string[] settingsA)
    {
        var folder = new TemporaryFolder("nodes");
        PostgresDatabase? database = null;
        NsNode? a = null;
        try
        {
            database = await TestPostgres.CreateDatabaseAsync("tcm_nodes");
            a = await NsNode.StartAsync("node-a", System.IO.Path.Combine(folder.Path, "a"), LoopbackPorts.Free(), database.ConnectionString, settingsA);
            var pair = new NodePair(output, folder, database, a, LoopbackPorts.Free());
            pair.Package = JsonSerializer.Deserialize(
                await File.ReadAllTextAsync(System.IO.Path.Combine(a.DataFolder, "agent-package.json")), ProtocolJsonContext.Default.InstallPackage)!;
            return pair;
        }
        catch
        {
            if (a is not null)
            {
                output.WriteLine(a.Output);
                await a.DisposeAsync();
            }

            database?.Dispose();
            folder.Dispose();
            throw;
        }
    }

    /// <summary>Starts node B with a copy of node A's CA and admin key.</summary>
    public async Task<NsNode> StartBAsync()
    {
        var folderB = System.IO.Path.Combine(folder.Path, "b");
        A.CopyIdentityTo(folderB);
        _b = await NsNode.StartAsync("node-b", folderB, portB, database.ConnectionString);
        return _b;
    }

    /// <summary>Runs <paramref name="sql"/> on the shared database as the test (not as a node) and reads each row with <paramref name="read"/>.</summary>
    public async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in new[] { _b, A })
        {
            if (node is not null)
            {
                await node.DisposeAsync();
                output.WriteLine($"==== {node.Name} printed ====\n{node.Output}");
            }
        }

        database.Dispose();
        folder.Dispose();
    }
}
