using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Tcm.Lab.Storage;

namespace Tcm.Testing;

/// <summary>The host's store: the SQLite file in its data folder, or its own PostgreSQL database (<see cref="FolderDatabases"/>).</summary>
public sealed partial class NotificationServerHost
{
    /// <summary>The SQLite file's name in the data folder (the NS's <c>TcmStore.FileName</c>).</summary>
    public const string SqliteFileName = "tcm.db";

    private PostgresDatabase? _database;

    /// <summary>Where this host's server keeps its data.</summary>
    public StoreKind Store { get; }

    /// <summary>
    /// What the server's <c>Store</c> option is set to: the connection string of this host's PostgreSQL database, or null for the
    /// SQLite file in <see cref="DataDirectory"/>.
    /// </summary>
    public string? StoreConnectionString => _database?.ConnectionString;

    /// <summary>The host's PostgreSQL database (null on SQLite); dropped when the data folder is deleted.</summary>
    public PostgresDatabase? Database => _database;

    /// <summary>
    /// An open connection to the server's data, for a test that checks what was stored (read-only on SQLite unless
    /// <paramref name="readOnly"/> is false, for a test that prepares stored data while the server is stopped): write its SQL so
    /// both engines read it (named parameters as <c>@name</c>).
    /// </summary>
    public DbConnection OpenStore(bool readOnly = true)
    {
        DbConnection connection = _database is { } database
            ? new NpgsqlConnection(database.ConnectionString)
            : new SqliteConnection($"Data Source={Path.Combine(DataDirectory, SqliteFileName)};Mode={(readOnly ? "ReadOnly" : "ReadWrite")};Pooling=False");
        connection.Open();
        return connection;
    }

    private async Task OpenDatabaseAsync(CancellationToken cancellationToken)
    {
        if (Store == StoreKind.PostgreSql)
        {
            _database ??= await FolderDatabases.ForFolderAsync(DataDirectory, cancellationToken);
        }
    }
}
