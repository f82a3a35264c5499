using Npgsql;

namespace Tcm.NotificationServer.Store;

/// <summary>The Notification Server's store on PostgreSQL: reading <see cref="NotificationServerOptions.Store"/> and opening its data source.</summary>
internal static class PostgresStore
{
    /// <summary>
    /// Why <paramref name="connectionString"/> cannot name a PostgreSQL database, or null when it can: it must parse as an Npgsql
    /// connection string and name a host. Nothing is connected to here; a server that cannot be reached fails the start.
    /// </summary>
    public static string? Problem(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            return $"not a PostgreSQL connection string ({ex.Message}); write it as Host=...;Port=5432;Database=...;Username=...;Password=..., or leave it empty for the embedded SQLite file";
        }

        return string.IsNullOrWhiteSpace(builder.Host)
            ? "the PostgreSQL connection string names no Host (Host=...;Database=...;Username=...)"
            : null;
    }

    /// <summary>
    /// The data source of <paramref name="connectionString"/>. Unless the string says otherwise, statements a connection has run twice
    /// are prepared on the server (the writer runs the same few texts for every agent of a fan-out), and connections carry the
    /// application name <c>tcm-ns</c> (what <c>pg_stat_activity</c> shows).
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 128;
            builder.AutoPrepareMinUsages = 2;
        }

        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = "tcm-ns";
        }

        return NpgsqlDataSource.Create(builder);
    }

    /// <summary>The server and database of <paramref name="dataSource"/>, for logs and health checks (never the password).</summary>
    public static string Describe(NpgsqlDataSource dataSource)
    {
        var builder = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        return $"postgresql://{builder.Host}:{builder.Port}/{builder.Database ?? builder.Username}";
    }
}
