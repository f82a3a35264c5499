using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Tcm.Hosting.Storage;

/// <summary>
/// One step of a store's schema; once applied, the store's version (SQLite's <c>PRAGMA user_version</c>, PostgreSQL's
/// <c>schema_version</c> row) is <see cref="Version"/>.
/// </summary>
/// <param name="Version">The version this step brings the store to.</param>
/// <param name="Description">What the step does, for people.</param>
/// <param name="Sql">The step on SQLite.</param>
/// <param name="PostgresSql">The step on PostgreSQL; null: <paramref name="Sql"/> as <see cref="PostgresDdl.Translate"/> writes it.</param>
public sealed record SchemaMigration(int Version, string Description, string Sql, string? PostgresSql = null)
{
    /// <summary>The step's text on PostgreSQL.</summary>
    public string PostgresText => PostgresSql ?? PostgresDdl.Translate(Sql);
}

/// <summary>
/// The whole schema of one SQLite store, as the ordered migrations that build it (versions 1, 2, 3, ...).
/// <para>
/// Version 1 is the schema as it stood before stores carried a version; <see cref="UnversionedTables"/> are the tables a
/// database of that time holds, by which one (<c>user_version</c> 0) is recognised as already at version 1.
/// </para>
/// </summary>
public sealed record StoreSchema(string StoreName, IReadOnlyList<SchemaMigration> Migrations, IReadOnlyList<string> UnversionedTables)
{
    /// <summary>The version this code writes: the last migration's.</summary>
    public int CurrentVersion => Migrations[^1].Version;
}

/// <summary>What opening a store did to its schema.</summary>
/// <param name="FromVersion">The <c>user_version</c> found (0 for a new file or one from before versioning).</param>
/// <param name="ToVersion">The version the store is at now.</param>
/// <param name="AdoptedUnversioned">An unversioned database already holding version 1 was stamped as such, not rebuilt.</param>
public sealed record SchemaMigrationOutcome(int FromVersion, int ToVersion, bool AdoptedUnversioned);

/// <summary>The store's schema is newer than this code knows: it was written by a newer TCM and is not opened.</summary>
public sealed class StoreVersionException : Exception
{
    public StoreVersionException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// Brings a store to the version its code expects: each missing migration in its own transaction, together with the version
/// it sets, so a crash leaves the store at the last whole version. A store newer than the code is refused untouched.
/// </summary>
public static class SchemaMigrator
{
    /// <summary>
    /// The PostgreSQL advisory lock held while a database is migrated (and while a store sets up what it keeps beside its schema), so
    /// that servers starting together on one database migrate it once, one after the other.
    /// </summary>
    public const long PostgresLock = 0x7463_6D5F_7363_6865; // "tcm_sche"

    /// <summary>Brings a SQLite store to <paramref name="schema"/>'s version.</summary>
    public static SchemaMigrationOutcome Migrate(SqliteConnection connection, StoreSchema schema)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return Migrate(connection, schema, Sqlite);
    }

    /// <summary>
    /// Brings a PostgreSQL database to <paramref name="schema"/>'s version, holding <see cref="PostgresLock"/> meanwhile. The version is
    /// the one row of <c>schema_version</c>, created on first use.
    /// </summary>
    public static SchemaMigrationOutcome Migrate(NpgsqlConnection connection, StoreSchema schema)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Execute(connection, null, "SELECT pg_advisory_lock(" + PostgresLock.ToString(CultureInfo.InvariantCulture) + ")");
        try
        {
            Execute(connection, null, "CREATE TABLE IF NOT EXISTS schema_version(id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
            return Migrate(connection, schema, Postgres);
        }
        finally
        {
            Execute(connection, null, "SELECT pg_advisory_unlock(" + PostgresLock.ToString(CultureInfo.InvariantCulture) + ")");
        }
    }

    private static SchemaMigrationOutcome Migrate(DbConnection connection, StoreSchema schema, Engine engine)
    {
        ArgumentNullException.ThrowIfNull(schema);
        for (var i = 0; i < schema.Migrations.Count; i++)
        {
            if (schema.Migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException($"The migrations of {schema.StoreName} must be numbered 1, 2, 3, ... in order; entry {i} is version {schema.Migrations[i].Version}.");
            }
        }

        var found = engine.ReadVersion(connection);
        if (found > schema.CurrentVersion)
        {
            throw new StoreVersionException(
                $"The {engine.Place}'s {schema.StoreName} is at schema version {found}, but this TCM knows versions up to {schema.CurrentVersion}: " +
                $"it was written by a newer TCM. Run that version, or point this one at another {engine.Place}.");
        }

        var version = found;
        var adopted = false;
        if (found == 0 && engine.HasUnversioned && schema.UnversionedTables.Count > 0
            && schema.UnversionedTables.All(table => Count(connection, "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name=@p0", table) > 0))
        {
            // why: such a file was created by the code whose schema is version 1, which never set user_version; running
            // version 1 again would be harmless, but stamping it keeps "applied" meaning "applied once".
            using var transaction = connection.BeginTransaction();
            Execute(connection, transaction, engine.SetVersion(1));
            transaction.Commit();
            version = 1;
            adopted = true;
        }

        foreach (var migration in schema.Migrations)
        {
            if (migration.Version <= version)
            {
                continue;
            }

            using var transaction = connection.BeginTransaction();
            Execute(connection, transaction, engine.Text(migration));
            Execute(connection, transaction, engine.SetVersion(migration.Version));
            transaction.Commit();
            version = migration.Version;
        }

        return new SchemaMigrationOutcome(found, version, adopted);
    }

    /// <summary>The store's <c>PRAGMA user_version</c>.</summary>
    public static int ReadVersion(SqliteConnection connection) => Sqlite.ReadVersion(connection);

    private static long Count(DbConnection connection, string sql, params object[] args)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        for (var i = 0; i < args.Length; i++)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@p" + i.ToString(CultureInfo.InvariantCulture);
            parameter.Value = args[i];
            command.Parameters.Add(parameter);
        }

        return Convert.ToInt64(command.ExecuteScalar() ?? 0L, CultureInfo.InvariantCulture);
    }

    private static void Execute(DbConnection connection, DbTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static readonly Engine Sqlite = new(
        "data folder",
        HasUnversioned: true,
        static connection => (int)Count(connection, "PRAGMA user_version"),
        // why: a pragma takes no parameters; the value is an int, never text from outside.
        static version => "PRAGMA user_version = " + version.ToString(CultureInfo.InvariantCulture),
        static migration => migration.Sql);

    private static readonly Engine Postgres = new(
        "database",
        HasUnversioned: false,
        static connection => (int)Count(connection, "SELECT COALESCE(MAX(version), 0) FROM schema_version"),
        static version => "INSERT INTO schema_version(id, version) VALUES(1, " + version.ToString(CultureInfo.InvariantCulture) +
            ") ON CONFLICT(id) DO UPDATE SET version = excluded.version",
        static migration => migration.PostgresText);

    /// <summary>How one engine keeps a store's version, and which text of a migration it runs.</summary>
    private sealed record Engine(
        string Place, bool HasUnversioned, Func<DbConnection, int> ReadVersion, Func<int, string> SetVersion, Func<SchemaMigration, string> Text);
}
