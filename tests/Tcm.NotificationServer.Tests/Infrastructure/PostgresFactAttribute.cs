namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>
/// A test against a real PostgreSQL server, whose connection string is in <see cref="Variable"/>; without it the test is skipped with
/// <see cref="MissingMessage"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresFactAttribute : FactAttribute
{
    /// <summary>The environment variable that holds the test server's connection string.</summary>
    public const string Variable = "TCM_TEST_POSTGRES";

    /// <summary>What a run without a server says.</summary>
    public const string MissingMessage =
        "no PostgreSQL server for tests: set TCM_TEST_POSTGRES to a connection string (Host=127.0.0.1;Port=...;Username=...;Database=...)";

    public PostgresFactAttribute()
    {
        if (ConnectionString is null)
        {
            Skip = MissingMessage;
        }
    }

    /// <summary>The test server's connection string, or null.</summary>
    public static string? ConnectionString => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : null;
}
