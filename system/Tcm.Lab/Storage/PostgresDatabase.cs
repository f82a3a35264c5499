using System.Security.Cryptography;
using Npgsql;

namespace Tcm.Lab.Storage;

/// <summary>
/// A fresh, empty database on a PostgreSQL server, named <c>{prefix}_{random}</c>, so each server under test has its own
/// and tests stay independent when they run in parallel; dropped on dispose, even while connections are still open to it.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable, IDisposable
{
    private readonly string _adminConnectionString;
    private int _dropped;

    private PostgresDatabase(string adminConnectionString, string name)
    {
        _adminConnectionString = adminConnectionString;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>The database's name: lower case letters, digits and underscores.</summary>
    public string Name { get; }

    /// <summary>A connection string to this database, with the admin's credentials: what a Notification Server's <c>Store</c> is set to.</summary>
    public string ConnectionString { get; }

    /// <summary>Creates a database named <c>{prefix}_{12 random hex digits}</c> through <paramref name="adminConnectionString"/>.</summary>
    public static async Task<PostgresDatabase> CreateAsync(string adminConnectionString, string prefix, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(adminConnectionString);
        if (prefix.Length is 0 or > 40 || !prefix.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_'))
        {
            throw new ArgumentException("A database prefix is 1 to 40 lower case letters, digits or underscores.", nameof(prefix));
        }

        var database = new PostgresDatabase(adminConnectionString, $"{prefix}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}");
        await using var connection = new NpgsqlConnection(adminConnectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{database.Name}\"", connection);
        await command.ExecuteNonQueryAsync(ct);
        return database;
    }

    /// <summary>Whether a database named <paramref name="name"/> exists on the server of <paramref name="adminConnectionString"/>.</summary>
    public static async Task<bool> ExistsAsync(string adminConnectionString, string name, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(adminConnectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = @name", connection);
        command.Parameters.AddWithValue("name", name);
        return (long)(await command.ExecuteScalarAsync(ct))! > 0;
    }

    /// <summary>Drops the database; the connections still open to it (a server's pool) are closed first.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _dropped, 1) != 0)
        {
            return;
        }

        using (var pooled = new NpgsqlConnection(ConnectionString))
        {
            NpgsqlConnection.ClearPool(pooled);
        }

        using var connection = new NpgsqlConnection(_adminConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(DropStatement, connection);
        command.ExecuteNonQuery();
    }

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        // why: one short statement on a loopback server; a second, asynchronous copy of the drop is not worth its lines.
        Dispose();
        return ValueTask.CompletedTask;
    }

    // why: WITH (FORCE) ends the sessions a stopped server's pool may still hold, so dropping never waits on them.
    private string DropStatement => $"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)";
}
