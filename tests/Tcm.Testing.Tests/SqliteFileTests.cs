using Tcm.Hosting.Storage;

namespace Tcm.Testing.Tests;

public sealed class SqliteFileTests : IDisposable
{
    private static readonly StoreSchema Schema = new("test.db",
        [new SchemaMigration(1, "before versioning", "CREATE TABLE IF NOT EXISTS a(x INTEGER);\r\nCREATE TABLE IF NOT EXISTS b(y INTEGER);\r\nCREATE INDEX IF NOT EXISTS a_x ON a(x);")],
        ["a", "b"]);

    private readonly string _path = Path.Combine(Path.GetTempPath(), "tcm-testing", Guid.NewGuid().ToString("N")[..12], "test.db");

    public void Dispose()
    {
        if (Directory.Exists(Path.GetDirectoryName(_path)))
        {
            Directory.Delete(Path.GetDirectoryName(_path)!, recursive: true);
        }
    }

    [Fact]
    public void UnversionedSchema_IsVersion1LeavingOutTheTablesAskedFor_AndStampsNoVersion()
    {
        SqliteFile.UnversionedSchema(Schema, "b").Should().Be("CREATE TABLE IF NOT EXISTS a(x INTEGER);\nCREATE INDEX IF NOT EXISTS a_x ON a(x);\n");

        SqliteFile.Execute(_path, SqliteFile.UnversionedSchema(Schema));

        SqliteFile.UserVersion(_path).Should().Be(0);
        SqliteFile.SetUserVersion(_path, 7);
        SqliteFile.UserVersion(_path).Should().Be(7);
    }

    [Fact]
    public void Fingerprint_ReadsLineEndsAsLf_SoACheckoutWithCrLfPinsTheSameText()
    {
        var lf = new SchemaMigration(1, "x", "CREATE TABLE a(x);\nCREATE TABLE b(y);");
        var crlf = lf with { Sql = "CREATE TABLE a(x);\r\nCREATE TABLE b(y);" };

        SqliteFile.Fingerprint(crlf).Should().Be(SqliteFile.Fingerprint(lf)).And.HaveLength(64);
        SqliteFile.Fingerprint(lf with { Sql = "CREATE TABLE a(z);\nCREATE TABLE b(y);" }).Should().NotBe(SqliteFile.Fingerprint(lf));
    }
}
