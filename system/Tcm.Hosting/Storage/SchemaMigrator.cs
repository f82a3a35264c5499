using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Tcm.Hosting.Storage;

/// <summary>One step of a store's schema; once applied, <c>PRAGMA user_version</c> is <see cref="Version"/>.</summary>
public sealed record SchemaMigration(int Version, string Description, string Sql);

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
/// Brings a SQLite store to the version its code expects: each missing migration in its own transaction, together with
/// the <c>user_version</c> it sets, so a crash leaves the file at the last whole version. A store newer than the code is
/// refused untouched.
/// </summary>
public static class SchemaMigrator
{
    public static SchemaMigrationOutcome Migrate(SqliteConnection connection, StoreSchema schema)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(schema);
        for (var i = 0; i < schema.Migrations.Count; i++)
        {
            if (schema.Migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException($"The migrations of {schema.StoreName} must be numbered 1, 2, 3, ... in order; entry {i} is version {schema.Migrations[i].Version}.");
            }
        }

        var found = ReadVersion(connection);
        if (found > schema.CurrentVersion)
        {
            throw new StoreVersionException(
                $"The data folder's {schema.StoreName} is at schema version {found}, but this TCM knows versions up to {schema.CurrentVersion}: " +
                "it was written by a newer TCM. Run that version, or point this one at another data folder.");
        }

        var version = found;
        var adopted = false;
        if (found == 0 && schema.UnversionedTables.Count > 0 && schema.UnversionedTables.All(table => TableExists(connection, table)))
        {
            // why: such a file was created by the code whose schema is version 1, which never set user_version; running
            // version 1 again would be harmless, but stamping it keeps "applied" meaning "applied once".
            using var transaction = connection.BeginTransaction();
            SetVersion(connection, transaction, 1);
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
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = migration.Sql;
                command.ExecuteNonQuery();
            }

            SetVersion(connection, transaction, migration.Version);
            transaction.Commit();
            version = migration.Version;
        }

        return new SchemaMigrationOutcome(found, version, adopted);
    }

    /// <summary>The store's <c>PRAGMA user_version</c>.</summary>
    public static int ReadVersion(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version";
        return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static bool TableExists(SqliteConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name=@name";
        command.Parameters.AddWithValue("@name", table);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
    }

    private static void SetVersion(SqliteConnection connection, SqliteTransaction transaction, int version)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        // why: a pragma takes no parameters; the value is an int, never text from outside.
        command.CommandText = "PRAGMA user_version = " + version.ToString(CultureInfo.InvariantCulture);
        command.ExecuteNonQuery();
    }
}
