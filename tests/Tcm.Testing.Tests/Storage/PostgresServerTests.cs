using System.Net.Sockets;
using Npgsql;
using Tcm.Lab.Storage;

namespace Tcm.Testing.Tests.Storage;

/// <summary>The throwaway server itself: needs the PostgreSQL programs (skipped without them outside CI, failing under CI).</summary>
public sealed class PostgresServerTests
{
    [InstalledPostgresFact]
    public async Task Start_RunsAServerOnItsOwnLoopbackPort_WithFsyncOff_AndDisposeStopsItAndRemovesItsFolder()
    {
        var server = await PostgresServer.StartAsync();
        string folder;
        try
        {
            folder = server.Folder;
            Directory.Exists(Path.Combine(folder, "data")).Should().BeTrue();
            await using var connection = new NpgsqlConnection(server.AdminConnectionString);
            await connection.OpenAsync();
            (await Setting(connection, "listen_addresses")).Should().Be("127.0.0.1");
            (await Setting(connection, "port")).Should().Be(server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            (await Setting(connection, "fsync")).Should().Be("off");
            (await Setting(connection, "is_superuser")).Should().Be("on");
        }
        finally
        {
            await server.DisposeAsync();
        }

        Directory.Exists(folder).Should().BeFalse();
        var connect = async () =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync(System.Net.IPAddress.Loopback, server.Port);
        };
        await connect.Should().ThrowAsync<SocketException>("the server is stopped");
    }

    [InstalledPostgresFact]
    public async Task Server_RefusesAWrongPassword()
    {
        await using var server = await PostgresServer.StartAsync();
        var wrong = new NpgsqlConnectionStringBuilder(server.AdminConnectionString) { Password = "wrong" }.ConnectionString;

        var open = async () =>
        {
            await using var connection = new NpgsqlConnection(wrong);
            await connection.OpenAsync();
        };

        await open.Should().ThrowAsync<PostgresException>().Where(e => e.SqlState == PostgresErrorCodes.InvalidPassword);
    }

    [Fact]
    public async Task Start_WithoutThePrograms_FailsWithTheReason()
    {
        using var empty = new TemporaryFolder("no-postgres");
        Directory.CreateDirectory(empty.Path);

        var start = () => PostgresServer.StartAsync(empty.Path);

        await start.Should().ThrowAsync<InvalidOperationException>().WithMessage($"Cannot start a PostgreSQL server: PostgreSQL's initdb and pg_ctl are not in {empty.Path}*");
    }

    private static async Task<string?> Setting(NpgsqlConnection connection, string name)
    {
        await using var command = new NpgsqlCommand("SELECT current_setting(@name)", connection);
        command.Parameters.AddWithValue("name", name);
        return (string?)await command.ExecuteScalarAsync();
    }
}

/// <summary>A test that starts its own <see cref="PostgresServer"/>: skipped without the programs outside CI, failing under CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class InstalledPostgresFactAttribute : FactAttribute
{
    public InstalledPostgresFactAttribute() => Skip = TestPostgres.SkipReasonFor(PostgresServer.UnavailableReason(), TestPostgres.IsCi);
}
