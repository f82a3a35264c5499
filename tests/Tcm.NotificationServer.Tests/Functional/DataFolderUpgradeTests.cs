using Tcm.NotificationServer.Store;
using Tcm.Hosting.Storage;

namespace Tcm.NotificationServer.Tests.Functional;

/// <summary>A Notification Server started on a data folder written by an older or a newer TCM.</summary>
public sealed class DataFolderUpgradeTests : IDisposable
{
    private readonly TemporaryFolder _folder = new("ns-upgrade");

    private const string WhySqliteOnly = "it starts the server on a tcm.db an older or newer TCM left in the data folder; a PostgreSQL store has no such file";

    public void Dispose() => _folder.Dispose();

    [SqliteOnlyFact(WhySqliteOnly)]
    public async Task DataFolderFromBeforeVersioning_ServesItsAgentsActionsAndSiteServers()
    {
        UnversionedNsDatabase.Create(_folder.File(TcmStore.FileName));

        await using var server = await NotificationServerHost.StartAsync(dataDirectory: _folder.Path);

        var agent = await server.AdminGetAsync($"/agents/{UnversionedNsDatabase.AgentId}", ProtocolJsonContext.Default.AgentInfo);
        agent.ComputerName.Should().Be(UnversionedNsDatabase.ComputerName);
        var action = await server.AdminGetAsync($"/actions/{UnversionedNsDatabase.ActionId}", ProtocolJsonContext.Default.ActionStatus);
        action.Counts["succeeded"].Should().Be(1);
        action.Targets.Should().ContainSingle().Which.ComputerName.Should().Be(UnversionedNsDatabase.ComputerName);
        var sites = await server.AdminGetAsync("/site-servers", ProtocolJsonContext.Default.IReadOnlyListSiteServerInfo);
        sites.Should().ContainSingle().Which.Name.Should().Be("ts-old");
        SqliteFile.UserVersion(_folder.File(TcmStore.FileName)).Should().Be(TcmSchema.Definition.CurrentVersion);
    }

    [SqliteOnlyFact(WhySqliteOnly)]
    public async Task DataFolderFromANewerVersion_StopsTheStartWithAClearError()
    {
        var path = _folder.File(TcmStore.FileName);
        UnversionedNsDatabase.Create(path);
        SqliteFile.SetUserVersion(path, TcmSchema.Definition.CurrentVersion + 1);

        var start = () => NotificationServerHost.StartAsync(dataDirectory: _folder.Path);

        await start.Should().ThrowAsync<StoreVersionException>().WithMessage("*written by a newer TCM*");
    }
}
