using Microsoft.Extensions.DependencyInjection;
using Tcm.Lab.Storage;
using Tcm.NotificationServer.Cluster;

namespace Tcm.NotificationServer.Tests.Cluster;

/// <summary>
/// Two real Notification Server nodes, <c>node-a</c> and <c>node-b</c>, on one PostgreSQL database (the kit keys a host's database by
/// its data folder, so both use the same one, with the same CA and admin key, as an operator's nodes do), each listening for the other's
/// signals before the test goes on. For <see cref="PostgresFactAttribute"/> tests.
/// </summary>
internal sealed class PostgresNodes : IAsyncDisposable
{
    private PostgresNodes(string folder) => Folder = folder;

    public string Folder { get; }

    public NotificationServerHost A { get; private set; } = null!;

    public NotificationServerHost B { get; private set; } = null!;

    /// <summary>Starts both nodes; <paramref name="services"/> changes each node's services (a shorter wave lease).</summary>
    public static async Task<PostgresNodes> StartAsync(Action<IServiceCollection>? services = null)
    {
        var nodes = new PostgresNodes(Path.Combine(Path.GetTempPath(), "tcm-tests", "pgnodes-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))));
        try
        {
            nodes.A = await StartNodeAsync("node-a", nodes.Folder, services);
            nodes.B = await StartNodeAsync("node-b", nodes.Folder, services);
            return nodes;
        }
        catch
        {
            await nodes.DisposeAsync();
            throw;
        }
    }

    /// <summary>The agent as node B sees it: the same registration and certificate, calling node B.</summary>
    public TestAgent OnB(TestAgent agent) => new(B, new RegisteredAgent(agent.Registration, agent.Certificate));

    /// <summary>One value of the store both nodes share.</summary>
    public T Scalar<T>(string sql)
    {
        using var connection = B.OpenStore();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        if (B is not null)
        {
            await B.DisposeAsync();
        }

        if (A is not null)
        {
            await A.DisposeAsync();
        }

        TestFolders.TryDelete(Folder);
    }

    private static async Task<NotificationServerHost> StartNodeAsync(string name, string folder, Action<IServiceCollection>? services)
    {
        var node = await NotificationServerHost.StartAsync(
            tcmEnabled: true, dataDirectory: folder, store: StoreKind.PostgreSql, configure: o => o.NodeName = name, services: services);
        var signal = (PostgresNodeSignal)node.Services.GetRequiredService<INodeSignal>();
        await Eventually.WaitAsync(() => signal.Listens >= 1, $"{name} listens for the other node's signals");
        return node;
    }
}
