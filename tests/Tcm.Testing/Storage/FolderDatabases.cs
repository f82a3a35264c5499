using System.Collections.Concurrent;
using Tcm.Lab.Storage;

namespace Tcm.Testing;

/// <summary>
/// The PostgreSQL databases of Notification Server hosts, one per data folder: a host started again on the same folder (a
/// restart, or a second host on the data the first left) finds the same database, as it finds the same SQLite file. Deleting
/// the folder through <see cref="TestFolders.TryDelete"/> drops its database.
/// </summary>
public static class FolderDatabases
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<PostgresDatabase>>> s_byFolder = new(StringComparer.Ordinal);

    /// <summary>The database of <paramref name="folder"/>, created fresh on first use.</summary>
    public static Task<PostgresDatabase> ForFolderAsync(string folder, CancellationToken ct) =>
        s_byFolder.GetOrAdd(Path.GetFullPath(folder), _ => new(() => TestPostgres.CreateDatabaseAsync("tcm_ns", ct))).Value;

    /// <summary>Drops the database of <paramref name="folder"/>, if it has one.</summary>
    public static void Drop(string folder)
    {
        if (s_byFolder.TryRemove(Path.GetFullPath(folder), out var database) && database.Value.IsCompletedSuccessfully)
        {
            database.Value.Result.Dispose();
        }
    }
}
