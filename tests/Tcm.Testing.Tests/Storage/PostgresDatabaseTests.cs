using Npgsql;
using Tcm.Lab.Storage;

namespace Tcm.Testing.Tests.Storage;

/// <summary>Fresh databases on the test server (TCM_TEST_POSTGRES, else the process's own).</summary>
public sealed class PostgresDatabaseTests
{
    [PostgresFact]
    public async Task Create_GivesEachCallerItsOwnEmptyDatabase()
    {
        await using var first = await TestPostgres.CreateDatabaseAsync("tcm_fixture");
        await using var second = await TestPostgres.CreateDatabaseAsync("tcm_fixture");

        first.Name.Should().MatchRegex("^tcm_fixture_[0-9a-f]{12}$").And.NotBe(second.Name);
        await Execute(first.ConnectionString, "CREATE TABLE only_here(x integer)");
        (await Scalar(first.ConnectionString, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'")).Should().Be(1L);
        (await Scalar(second.ConnectionString, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'")).Should().Be(0L);
        (await Scalar(first.ConnectionString, "SELECT current_database()")).Should().Be(first.Name);
    }

    [PostgresFact]
    public async Task Dispose_DropsTheDatabase_EvenWithConnectionsStillOpen()
    {
        var admin = await StoreSelection.AdminConnectionStringAsync(default);
        var database = await TestPostgres.CreateDatabaseAsync("tcm_fixture");
        await using var held = new NpgsqlConnection(database.ConnectionString);
        await held.OpenAsync();
        (await PostgresDatabase.ExistsAsync(admin, database.Name, default)).Should().BeTrue();

        await database.DisposeAsync();
        await database.DisposeAsync();

        (await PostgresDatabase.ExistsAsync(admin, database.Name, default)).Should().BeFalse();
    }

    [Theory]
    [InlineData("")]
    [InlineData("Upper")]
    [InlineData("semi;colon")]
    [InlineData("quote\"")]
    public async Task Create_RefusesAPrefixThatIsNotAPlainName(string prefix)
    {
        var create = () => PostgresDatabase.CreateAsync("Host=127.0.0.1", prefix, default);

        await create.Should().ThrowAsync<ArgumentException>().WithParameterName("prefix");
    }

    private static async Task Execute(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> Scalar(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
