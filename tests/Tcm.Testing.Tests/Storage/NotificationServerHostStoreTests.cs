using Tcm.Lab.Storage;

namespace Tcm.Testing.Tests.Storage;

/// <summary>The store matrix's plumbing in the kit's Notification Server host.</summary>
public sealed class NotificationServerHostStoreTests
{
    [PostgresFact]
    public async Task PostgreSqlStore_SetsTheServersStoreToAFreshDatabaseOfItsDataFolder_DroppedWithTheFolder()
    {
        var admin = await StoreSelection.AdminConnectionStringAsync(default);
        var folder = new TemporaryFolder("ns-store");
        string? seen = null;

        // why: the options are read at start; the test stops the start there, so it checks what the host hands the server
        // whether or not this build's server can run on PostgreSQL yet.
        var start = () => NotificationServerHost.StartAsync(dataDirectory: folder.Path, store: StoreKind.PostgreSql, configure: o =>
        {
            seen = o.Store;
            throw new StartStopped();
        });

        await start.Should().ThrowAsync<StartStopped>();
        var database = await FolderDatabases.ForFolderAsync(folder.Path, default);
        seen.Should().Be(database.ConnectionString);
        (await FolderDatabases.ForFolderAsync(folder.Path, default)).Should().BeSameAs(database, "a host started again on the folder finds the same data");
        (await PostgresDatabase.ExistsAsync(admin, database.Name, default)).Should().BeTrue();

        folder.Dispose();

        (await PostgresDatabase.ExistsAsync(admin, database.Name, default)).Should().BeFalse();
    }

    [Fact]
    public async Task StoreNotGiven_FollowsTcmTestStore()
    {
        var postgres = StoreSelection.Selected == StoreKind.PostgreSql;
        string? seen = null;

        var start = () => NotificationServerHost.StartAsync(configure: o =>
        {
            seen = o.Store;
            throw new StartStopped();
        });

        await start.Should().ThrowAsync<StartStopped>();
        if (postgres)
        {
            seen.Should().StartWith("Host=").And.Contain("Database=tcm_ns_", "TCM_TEST_STORE=postgresql gives the host a fresh database");
        }
        else
        {
            seen.Should().BeNull("the SQLite file in the data folder is the default");
        }
    }

    [PostgresFact]
    public async Task PostgreSqlStore_OfAnotherFolder_IsAnotherDatabase()
    {
        using var one = new TemporaryFolder("ns-store");
        using var other = new TemporaryFolder("ns-store");

        var first = await FolderDatabases.ForFolderAsync(one.Path, default);
        var second = await FolderDatabases.ForFolderAsync(other.Path, default);

        first.Name.Should().NotBe(second.Name);
    }

    [Fact]
    public async Task SqliteStore_LeavesTheStoreEmpty_AndOpenStoreReadsTheFileInTheDataFolder()
    {
        string? seen = "unset";
        await using var server = await NotificationServerHost.StartAsync(store: StoreKind.Sqlite, configure: o => seen = o.Store);
        var agent = await server.RegisterAsync("PC-STORE");
        agent.Certificate.Dispose();

        seen.Should().BeNull();
        server.Store.Should().Be(StoreKind.Sqlite);
        server.StoreConnectionString.Should().BeNull();
        using var connection = server.OpenStore();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM agents WHERE name = @name";
        var name = command.CreateParameter();
        name.ParameterName = "@name";
        name.Value = "PC-STORE";
        command.Parameters.Add(name);
        Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture).Should().Be(1);
    }

    private sealed class StartStopped : Exception;
}
