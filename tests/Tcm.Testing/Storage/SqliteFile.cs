using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Tcm.Hosting.Storage;

namespace Tcm.Testing;

/// <summary>
/// A store's SQLite file as its tests prepare and inspect it from outside the store: a database as an older TCM left it,
/// built from the store's own shipped version 1 (so no test keeps a second copy of the schema), and the version stamped in it.
/// </summary>
public static class SqliteFile
{
    /// <summary>Runs <paramref name="sql"/> on the file at <paramref name="path"/>, creating it (and its folder) when missing.</summary>
    public static void Execute(string path, string sql)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var connection = Open(path);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>The file's <c>PRAGMA user_version</c>: 0 for a database from before versioning.</summary>
    public static long UserVersion(string path)
    {
        using var connection = Open(path);
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version";
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Stamps <paramref name="version"/> into the file, e.g. one newer than the code knows.</summary>
    public static void SetUserVersion(string path, int version) => Execute(path, $"PRAGMA user_version = {version}");

    /// <summary>
    /// The statements of <paramref name="schema"/>'s version 1, the schema as TCM created it before its stores carried a version
    /// (and stamped none), leaving out the statements on the tables <paramref name="without"/> (a database older still).
    /// </summary>
    public static string UnversionedSchema(StoreSchema schema, params string[] without)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var statements = schema.Migrations[0].Sql.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Concat(statements
            .Where(statement => !without.Any(table => statement.Contains($" {table}(", StringComparison.Ordinal)))
            .Select(statement => statement + ";\n"));
    }

    /// <summary>
    /// SHA-256 of a migration's text, line ends read as LF: a test pins it, because databases in the field were built by the
    /// shipped text and <see cref="UnversionedSchema"/> stands for them only while that text stays as it shipped.
    /// </summary>
    public static string Fingerprint(SchemaMigration migration)
    {
        ArgumentNullException.ThrowIfNull(migration);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(migration.Sql.ReplaceLineEndings("\n"))));
    }

    private static SqliteConnection Open(string path)
    {
        var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        return connection;
    }
}
