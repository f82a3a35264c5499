namespace Tcm.Lab.Storage;

/// <summary>Where a Notification Server under test keeps its management data.</summary>
public enum StoreKind
{
    /// <summary>The embedded SQLite file in its data folder (the default).</summary>
    Sqlite,

    /// <summary>A fresh database of its own on a PostgreSQL server.</summary>
    PostgreSql,
}

/// <summary>
/// The store matrix, read from the environment: <c>TCM_TEST_STORE</c> (<c>sqlite</c>, the default, or <c>postgresql</c>)
/// picks the store of the test kit's Notification Server hosts and of the lab's; <c>TCM_TEST_POSTGRES</c> is the admin connection
/// string of the PostgreSQL server their databases are made on (<c>.ci/run</c> starts one and sets it). Without it, the first
/// database this process asks for starts this process's own <see cref="PostgresServer"/> (stopped after the process ends), when
/// the PostgreSQL programs are installed and may be run.
/// </summary>
public static class StoreSelection
{
    /// <summary>The variable that picks the store: <c>sqlite</c> (or unset) or <c>postgresql</c>.</summary>
    public const string StoreVariable = "TCM_TEST_STORE";

    /// <summary>The variable that names the PostgreSQL server: an admin connection string (may create and drop databases).</summary>
    public const string ServerVariable = "TCM_TEST_POSTGRES";

    private static readonly Lazy<Task<PostgresServer>> s_ownServer = new(StartOwnServerAsync);

    /// <summary>The store <see cref="StoreVariable"/> picks; an unknown value fails with the values it accepts.</summary>
    public static StoreKind Selected => Parse(Environment.GetEnvironmentVariable(StoreVariable));

    /// <summary>Reads a <see cref="StoreVariable"/> value: unset or <c>sqlite</c>, or <c>postgresql</c> (<c>postgres</c>, any case).</summary>
    public static StoreKind Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "sqlite" => StoreKind.Sqlite,
        "postgresql" or "postgres" => StoreKind.PostgreSql,
        _ => throw new InvalidOperationException($"{StoreVariable}='{value}' is not a store: use 'sqlite' (the default) or 'postgresql'."),
    };

    /// <summary>
    /// Why no PostgreSQL server can be had, or null when one can: <see cref="ServerVariable"/> is set, or this process may start
    /// its own.
    /// </summary>
    public static string? UnavailableReason =>
        !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(ServerVariable)) ? null
        : PostgresServer.UnavailableReason() is { } reason
            ? $"no PostgreSQL server: {ServerVariable} is not set (.ci/run sets it to the admin connection string of the server it starts) and this process cannot start its own: {reason}"
            : null;

    /// <summary>The admin connection string of the server to make databases on: <see cref="ServerVariable"/>'s, else this process's own server.</summary>
    public static async Task<string> AdminConnectionStringAsync(CancellationToken ct)
    {
        if (Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } given)
        {
            return given;
        }

        if (UnavailableReason is { } reason)
        {
            throw new InvalidOperationException(reason);
        }

        return (await s_ownServer.Value.WaitAsync(ct)).AdminConnectionString;
    }

    /// <summary>A fresh database (<c>{prefix}_{random}</c>) on the server of <see cref="AdminConnectionStringAsync"/>; the caller drops it by disposing it.</summary>
    public static async Task<PostgresDatabase> CreateDatabaseAsync(string prefix, CancellationToken ct) =>
        await PostgresDatabase.CreateAsync(await AdminConnectionStringAsync(ct), prefix, ct);

    private static async Task<PostgresServer> StartOwnServerAsync()
    {
        // why: one server for the whole process, started on first need (most runs never ask), so parallel tests share it.
        var server = await PostgresServer.StartAsync();
        server.StopWhenProcessEnds();
        return server;
    }
}
