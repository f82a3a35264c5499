using Tcm.Lab.Storage;
using Xunit;

namespace Tcm.Testing;

/// <summary>
/// PostgreSQL for tests (the server from <see cref="StoreSelection"/>: <c>TCM_TEST_POSTGRES</c>, else this process's own
/// throwaway server) and what a test does without one: outside CI it is skipped with the reason; under CI (<c>CI=true</c>)
/// it runs and fails with that reason, so a broken CI image is loud.
/// </summary>
public static class TestPostgres
{
    /// <summary>Whether the run is CI's (<c>CI=true</c>).</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The reason to skip a test that needs PostgreSQL, or null when it runs (a server can be had, or CI fails it instead).</summary>
    public static string? SkipReason => SkipReasonFor(StoreSelection.UnavailableReason, IsCi);

    /// <summary>The skip reason for a server that is missing for <paramref name="unavailableReason"/> (null: it is there), in or out of CI.</summary>
    public static string? SkipReasonFor(string? unavailableReason, bool ci) =>
        unavailableReason is null || ci ? null : unavailableReason + " (skipped outside CI; with CI=true this test fails instead)";

    /// <summary>The reason to skip a SQLite-only test: null on the SQLite pass; under <c>TCM_TEST_STORE=postgresql</c>, why it is SQLite's alone.</summary>
    public static string? SqliteOnlyReason(string why) => SqliteOnlyReason(why, StoreSelection.Selected);

    /// <summary>The reason to skip a SQLite-only test when <paramref name="selected"/> is the store of the pass.</summary>
    public static string? SqliteOnlyReason(string why, StoreKind selected) =>
        selected == StoreKind.Sqlite ? null : $"SQLite only, skipped under {StoreSelection.StoreVariable}=postgresql: {why}";

    /// <summary>A fresh database of its own; fails with the reason when no server can be had (reached outside CI only when a test did not ask to be skipped).</summary>
    public static Task<PostgresDatabase> CreateDatabaseAsync(string prefix = "tcm_test", CancellationToken ct = default) =>
        StoreSelection.CreateDatabaseAsync(prefix, ct);
}

/// <summary>A test that needs PostgreSQL: skipped with the reason when no server can be had outside CI, failing under <c>CI=true</c>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresFactAttribute : FactAttribute
{
    /// <summary>Skips the test with <see cref="TestPostgres.SkipReason"/>, if any.</summary>
    public PostgresFactAttribute() => Skip = TestPostgres.SkipReason;
}

/// <summary>
/// A test of the SQLite store alone (it reads or prepares the SQLite file, or a SQLite behaviour): it runs on the SQLite pass
/// and is skipped, with the reason it is given, under <c>TCM_TEST_STORE=postgresql</c>, so that pass never claims it.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SqliteOnlyFactAttribute : FactAttribute
{
    /// <summary>Skips the test under <c>TCM_TEST_STORE=postgresql</c>, saying <paramref name="why"/> it is SQLite's alone.</summary>
    public SqliteOnlyFactAttribute(string why) => Skip = TestPostgres.SqliteOnlyReason(why);
}
