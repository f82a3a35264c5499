using Tcm.Hosting.Storage;

namespace Tcm.NotificationServer.Tests.Unit;

/// <summary>
/// The stores' statements: one statement runs on SQLite's own prepared statement, anything else through a command, with the same
/// values stored, the same counts and the same errors either way.
/// </summary>
public sealed class SqliteStatementsTests : IDisposable
{
    private readonly SqliteConnection _connection = new("Data Source=:memory:");
    private readonly SqliteStatements _statements;

    public SqliteStatementsTests()
    {
        _connection.Open();
        _statements = new SqliteStatements(_connection);
        _statements.Execute("CREATE TABLE t(k TEXT PRIMARY KEY, v)");
    }

    public void Dispose()
    {
        _statements.Dispose();
        _connection.Dispose();
    }

    public static TheoryData<object?, string, object?> Values() => new()
    {
        { "text é ✓", "text", "text é ✓" },
        { "", "text", "" },
        { 42L, "integer", 42L },
        { 7, "integer", 7L },
        { true, "integer", 1L },
        { 2.5, "real", 2.5 },
        { new byte[] { 1, 2, 3 }, "blob", new byte[] { 1, 2, 3 } },
        { Array.Empty<byte>(), "blob", Array.Empty<byte>() },
        { null, "null", DBNull.Value },
        { DBNull.Value, "null", DBNull.Value },
        { new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), "text", "2026-01-02 03:04:05" },
    };

    [Theory]
    [MemberData(nameof(Values))]
    public void Value_IsStoredAsTheCommandWouldStoreIt(object? value, string type, object? stored)
    {
        _statements.Execute("INSERT INTO t(k, v) VALUES(@p0, @p1)", "a", value).Should().Be(1);

        _statements.Query("SELECT typeof(v), v FROM t WHERE k=@p0", r => (r.GetString(0), r.GetValue(1)), "a").Single().Should().BeEquivalentTo((type, stored));
    }

    [Fact]
    public void Parameters_AreMatchedByName_InAnyOrder_AndARepeatedOneOnce()
    {
        _statements.Execute("INSERT INTO t(v, k) VALUES(@p1 || @p1, @p0)", "key", "ab");

        _statements.Execute("UPDATE t SET v = @p1 WHERE k = @p0 AND v = @p2", "key", "changed", "abab").Should().Be(1);
        _statements.Execute("UPDATE t SET v = @p1 WHERE k = @p0 AND v = @p2", "key", "again", "abab").Should().Be(0, "the statement is reused with new values");
    }

    [Fact]
    public void ConstraintViolation_ThrowsTheCommandsException_AndTheStatementStaysUsable()
    {
        _statements.Execute("INSERT INTO t(k, v) VALUES(@p0, @p1)", "a", 1L);

        var thrown = FluentActions.Invoking(() => _statements.Execute("INSERT INTO t(k, v) VALUES(@p0, @p1)", "a", 2L)).Should().Throw<SqliteException>().Which;

        thrown.SqliteErrorCode.Should().Be(19, "SQLITE_CONSTRAINT");
        _statements.Execute("INSERT OR IGNORE INTO t(k, v) VALUES(@p0, @p1)", "a", 3L).Should().Be(0);
        _statements.Execute("INSERT INTO t(k, v) VALUES(@p0, @p1)", "b", 4L).Should().Be(1);
    }

    [Fact]
    public void SeveralStatementsInOneText_AllRun()
    {
        _statements.Execute("INSERT INTO t(k, v) VALUES(@p0, 1); INSERT INTO t(k, v) VALUES(@p1, 2);", "a", "b");

        _statements.Query("SELECT k FROM t ORDER BY k", r => r.GetString(0)).Should().Equal("a", "b");
    }

    [Fact]
    public void Rows_MapsEveryRowAChangeReturns()
    {
        _statements.Execute("INSERT INTO t(k, v) VALUES('a', NULL), ('b', 'x'), ('c', 3)");

        var rows = _statements.Rows("UPDATE t SET v = coalesce(v, 0) WHERE k <> @p0 RETURNING k, v", r => (r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1)), "c");

        rows.Should().BeEquivalentTo([("a", "0"), ("b", "x")]);
        _statements.Rows("SELECT count(*) FROM t WHERE v IS NOT NULL", r => r.GetInt64(0)).Should().Equal(3L);
    }

    [Fact]
    public void Rows_OfSeveralStatements_IsRefused()
    {
        FluentActions.Invoking(() => _statements.Rows("SELECT 1; SELECT 2;", r => r.GetInt64(0))).Should().Throw<NotSupportedException>();
    }

    [Fact]
    public void StatementOnATableCreatedLater_RunsOnceTheTableExists()
    {
        FluentActions.Invoking(() => _statements.Execute("INSERT INTO later(v) VALUES(@p0)", 1L)).Should().Throw<SqliteException>();

        _statements.Execute("CREATE TABLE later(v)");

        _statements.Execute("INSERT INTO later(v) VALUES(@p0)", 1L).Should().Be(1);
        _statements.Rows("SELECT v FROM later", r => r.GetInt64(0)).Should().Equal(1L);
    }
}
