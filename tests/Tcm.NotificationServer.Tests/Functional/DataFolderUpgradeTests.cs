using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Tcm.NotificationServer.Store;
using Tcm.NotificationServer.Tests.Infrastructure;
using Tcm.Protocol;
using Tcm.Protocol.Admin;
using Tcm.Hosting.Storage;

namespace Tcm.NotificationServer.Tests.Functional;

/// <summary>A Notification Server started on a data folder written by an older or a newer TCM.</summary>
public sealed class DataFolderUpgradeTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tcm-ns-tests", "upgrade-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task DataFolderFromBeforeVersioning_ServesItsAgentsActionsAndSiteServers()
    {
        UnversionedNsDatabase.Create(Path.Combine(_directory, TcmStore.FileName));

        await using var server = await NotificationServerHost.StartAsync(dataDirectory: _directory);

        var agent = await server.AdminGetAsync($"/agents/{UnversionedNsDatabase.AgentId}", ProtocolJsonContext.Default.AgentInfo);
        agent.ComputerName.Should().Be(UnversionedNsDatabase.ComputerName);
        var action = await server.AdminGetAsync($"/actions/{UnversionedNsDatabase.ActionId}", ProtocolJsonContext.Default.ActionStatus);
        action.Counts["succeeded"].Should().Be(1);
        action.Targets.Should().ContainSingle().Which.ComputerName.Should().Be(UnversionedNsDatabase.ComputerName);
        var sites = await server.AdminGetAsync("/site-servers", ProtocolJsonContext.Default.IReadOnlyListSiteServerInfo);
        sites.Should().ContainSingle().Which.Name.Should().Be("ts-old");
        UnversionedNsDatabase.UserVersion(Path.Combine(_directory, TcmStore.FileName)).Should().Be(TcmSchema.Definition.CurrentVersion);
    }

    [Fact]
    public async Task DataFolderFromANewerVersion_StopsTheStartWithAClearError()
    {
        var path = Path.Combine(_directory, TcmStore.FileName);
        UnversionedNsDatabase.Create(path);
        UnversionedNsDatabase.SetUserVersion(path, TcmSchema.Definition.CurrentVersion + 1);

        var start = () => NotificationServerHost.StartAsync(dataDirectory: _directory);

        await start.Should().ThrowAsync<StoreVersionException>().WithMessage("*written by a newer TCM*");
    }
}
