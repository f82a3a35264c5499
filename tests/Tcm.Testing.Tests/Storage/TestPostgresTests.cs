using Tcm.Lab.Storage;

namespace Tcm.Testing.Tests.Storage;

public sealed class TestPostgresTests
{
    [Theory]
    [InlineData(null, StoreKind.Sqlite)]
    [InlineData("", StoreKind.Sqlite)]
    [InlineData("sqlite", StoreKind.Sqlite)]
    [InlineData(" PostgreSQL ", StoreKind.PostgreSql)]
    [InlineData("postgres", StoreKind.PostgreSql)]
    public void StoreVariable_NamesTheStore(string? value, StoreKind expected) =>
        StoreSelection.Parse(value).Should().Be(expected);

    [Fact]
    public void StoreVariable_OfAnUnknownStore_FailsWithTheValuesItTakes()
    {
        var parse = () => StoreSelection.Parse("mysql");

        parse.Should().Throw<InvalidOperationException>().WithMessage("TCM_TEST_STORE='mysql' is not a store: use 'sqlite' (the default) or 'postgresql'.");
    }

    [Fact]
    public void MissingServer_OutsideCi_SkipsWithTheReason()
    {
        TestPostgres.SkipReasonFor("no PostgreSQL server: it is not there", ci: false)
            .Should().Be("no PostgreSQL server: it is not there (skipped outside CI; with CI=true this test fails instead)");
    }

    [Fact]
    public void MissingServer_UnderCi_RunsTheTestSoItFails()
    {
        TestPostgres.SkipReasonFor("no PostgreSQL server: it is not there", ci: true).Should().BeNull();
    }

    [Fact]
    public void ServerThere_RunsTheTest_InAndOutOfCi()
    {
        TestPostgres.SkipReasonFor(null, ci: false).Should().BeNull();
        TestPostgres.SkipReasonFor(null, ci: true).Should().BeNull();
    }

    [Fact]
    public void SqliteOnlyTest_RunsOnTheSqlitePass_AndIsSkippedWithItsReasonOnThePostgreSqlPass()
    {
        TestPostgres.SqliteOnlyReason("it reads the file's user_version", StoreKind.Sqlite).Should().BeNull();
        TestPostgres.SqliteOnlyReason("it reads the file's user_version", StoreKind.PostgreSql)
            .Should().Be("SQLite only, skipped under TCM_TEST_STORE=postgresql: it reads the file's user_version");
    }

    [Fact]
    public void SqliteOnlyAttribute_FollowsTheSelectedStore()
    {
        var expected = StoreSelection.Selected == StoreKind.Sqlite ? null : TestPostgres.SqliteOnlyReason("why", StoreKind.PostgreSql);

        new SqliteOnlyFactAttribute("why").Skip.Should().Be(expected);
    }
}
