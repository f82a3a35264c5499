using Tcm.Hosting.Storage;

namespace Tcm.NotificationServer.Tests.Unit;

/// <summary>The migration mechanism itself, on an in-memory database.</summary>
public sealed class SchemaMigratorTests : IDisposable
{
    private static readonly SchemaMigration CreateA = new(1, "table a", "CREATE TABLE a(x INTEGER);");
    private static readonly SchemaMigration AddColumn = new(2, "a.y", "ALTER TABLE a ADD COLUMN y TEXT;");
    private static readonly SchemaMigration CreateB = new(3, "table b", "CREATE TABLE b(x INTEGER);");

    private readonly SqliteConnection _connection = new("Data Source=:memory:");

    public SchemaMigratorTests() => _connection.Open();

    public void Dispose() => _connection.Dispose();

    [Fact]
    public void NewDatabase_GetsEveryMigrationInOrder()
    {
        var outcome = SchemaMigrator.Migrate(_connection, Schema(CreateA, AddColumn, CreateB));

        outcome.Should().Be(new SchemaMigrationOutcome(0, 3, AdoptedUnversioned: false));
        SchemaMigrator.ReadVersion(_connection).Should().Be(3);
        Scalar("SELECT COUNT(*) FROM pragma_table_info('a') WHERE name='y'").Should().Be(1L);
        Scalar("SELECT COUNT(*) FROM sqlite_master WHERE name='b'").Should().Be(1L);
    }

    [Fact]
    public void OlderDatabase_GetsOnlyTheMigrationsItLacks()
    {
        SchemaMigrator.Migrate(_connection, Schema(CreateA));

        // CreateA has no IF NOT EXISTS: running it twice would throw.
        var outcome = SchemaMigrator.Migrate(_connection, Schema(CreateA, AddColumn));

        outcome.Should().Be(new SchemaMigrationOutcome(1, 2, AdoptedUnversioned: false));
        SchemaMigrator.ReadVersion(_connection).Should().Be(2);
    }

    [Fact]
    public void FailingMigration_IsRolledBackWhole_AndTheVersionStaysAtTheLastOneApplied()
    {
        var broken = new SchemaMigration(2, "half done", "CREATE TABLE c(x INTEGER); INSERT INTO missing VALUES(1);");

        var migrate = () => SchemaMigrator.Migrate(_connection, Schema(CreateA, broken));

        migrate.Should().Throw<SqliteException>();
        SchemaMigrator.ReadVersion(_connection).Should().Be(1);
        Scalar("SELECT COUNT(*) FROM sqlite_master WHERE name='c'").Should().Be(0L, "the failed migration's first statement is undone with it");
    }

    [Fact]
    public void UnversionedDatabaseHoldingEveryVersion1Table_IsStampedWithoutRunningVersion1()
    {
        Execute("CREATE TABLE a(x INTEGER); INSERT INTO a VALUES(7);");

        var outcome = SchemaMigrator.Migrate(_connection, Schema(CreateA, AddColumn) with { UnversionedTables = ["a"] });

        outcome.Should().Be(new SchemaMigrationOutcome(0, 2, AdoptedUnversioned: true));
        Scalar("SELECT x FROM a").Should().Be(7L);
    }

    [Fact]
    public void DatabaseNewerThanTheCode_IsRefusedUntouched()
    {
        Execute("PRAGMA user_version = 9");

        var migrate = () => SchemaMigrator.Migrate(_connection, Schema(CreateA));

        migrate.Should().Throw<StoreVersionException>().WithMessage("The data folder's test.db is at schema version 9, but this TCM knows versions up to 1*");
        Scalar("SELECT COUNT(*) FROM sqlite_master").Should().Be(0L);
    }

    [Fact]
    public void MigrationsNotNumberedFromOne_AreABug()
    {
        var migrate = () => SchemaMigrator.Migrate(_connection, Schema(CreateA, CreateB));

        migrate.Should().Throw<InvalidOperationException>().WithMessage("*numbered 1, 2, 3*");
        SchemaMigrator.ReadVersion(_connection).Should().Be(0);
    }

    private static StoreSchema Schema(params SchemaMigration[] migrations) => new("test.db", migrations, []);

    private object? Scalar(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
