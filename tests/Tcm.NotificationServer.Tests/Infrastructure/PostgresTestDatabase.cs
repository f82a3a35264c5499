using Npgsql;

namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>
/// A new, empty PostgreSQL database on the server <c>TCM_TEST_POSTGRES</c> names (a connection string whose user may create databases),
/// dropped on dispose. Tests that need one are <see cref="PostgresFactAttribute"/>s: skipped, saying why, when the variable is unset.
/// </summary>
internal sealed class PostgresTestDatabase : IAsyncDisposable
{
    /// <summary>The environment variable naming the test server.</summary>
    public const string Variable = "TCM_TEST_POSTGRES";

    private readonly string _server;
    private readonly string _name;

    public PostgresTestDatabase()
    {
        _server = Tcm.Lab.Storage.StoreSelection.AdminConnectionStringAsync(default).GetAwaiter().GetResult();
        _name = "tcm_store_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        Execute(_server, $"CREATE DATABASE {_name}");
        ConnectionString = new NpgsqlConnectionStringBuilder(_server) { Database = _name, Pooling = false }.ConnectionString;
    }

    /// <summary>Why PostgreSQL tests are skipped here, or null when they run.</summary>
    public static string? SkipReason => Tcm.Testing.TestPostgres.SkipReason;

    /// <summary>The new database's connection string.</summary>
    public string ConnectionString { get; }

    /// <summary>Runs <paramref name="sql"/> on the new database (as the test, not as the store).</summary>
    public long Scalar(string sql)
    {
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        Execute(_server, $"DROP DATABASE IF EXISTS {_name} WITH (FORCE)");
        return ValueTask.CompletedTask;
    }

    private static void Execute(string connectionString, string sql)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
