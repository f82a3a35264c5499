using Microsoft.Data.Sqlite;

namespace Tcm.Testing;

/// <summary>Temporary data folders of servers under test.</summary>
public static class TestFolders
{
    /// <summary>A new folder path under the temp folder, <c>tcm-tests/{prefix}-{random}</c>; not created.</summary>
    public static string NewPath(string prefix) => Path.Combine(Path.GetTempPath(), "tcm-tests", $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)]);

    /// <summary>
    /// Deletes <paramref name="path"/> and what is in it, and drops the PostgreSQL database of a host that ran on it
    /// (<see cref="FolderDatabases"/>). SQLite's pooled connections are released first so the database file can go; a file still
    /// held elsewhere leaves the folder behind rather than failing the test.
    /// </summary>
    public static void TryDelete(string path)
    {
        FolderDatabases.Drop(path);
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>One test's temporary folder: a new path under the temp folder (not created), deleted with its content on dispose.</summary>
public sealed class TemporaryFolder(string prefix) : IDisposable
{
    /// <summary>The folder, <c>tcm-tests/{prefix}-{random}</c>.</summary>
    public string Path { get; } = TestFolders.NewPath(prefix);

    /// <summary>The path of <paramref name="name"/> in the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <inheritdoc />
    public void Dispose() => TestFolders.TryDelete(Path);
}
