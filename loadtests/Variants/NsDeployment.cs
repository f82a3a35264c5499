using Tcm.Lab.Storage;

namespace Tcm.LoadTests.Variants;

/// <summary>
/// How the tcm variant deploys its Notification Server: on the embedded SQLite file (one node, the default) or on a PostgreSQL
/// database shared by <see cref="Nodes"/> <c>tcm ns</c> processes. <see cref="PostgresAdmin"/> is the admin connection string of
/// a server to make the run's database on; null starts a throwaway server for the run (<see cref="PostgresServer"/>).
/// </summary>
internal sealed record NsDeployment(StoreKind Store, int Nodes = 1, string? PostgresAdmin = null)
{
    /// <summary>The most nodes one invocation starts: each is a process of its own on this machine.</summary>
    public const int MaxNodes = 8;

    /// <summary>Today's deployment: one node on SQLite.</summary>
    public static NsDeployment Default { get; } = new(StoreKind.Sqlite);

    /// <summary>
    /// What the scenario name gets: nothing for the default (the names of earlier reports stay), <c>-pg</c> for one node on
    /// PostgreSQL, <c>-pg-2nodes</c> for two. <see cref="ScenarioNames.BaselineOf"/> strips it.
    /// </summary>
    public string ScenarioSuffix => Store == StoreKind.Sqlite ? "" : Nodes == 1 ? PostgresSuffix : $"{PostgresSuffix}-{Nodes}nodes";

    /// <summary>The deployment in words, for the report's target description.</summary>
    public string Description => Store == StoreKind.Sqlite ? "SQLite"
        : $"PostgreSQL ({(PostgresAdmin is null ? "a throwaway server this run starts" : "a fresh database on the given server")}), "
          + (Nodes == 1 ? "one node" : $"{Nodes} nodes (tcm ns each, one database; agents spread evenly; fan-outs through node 1's admin API)");

    internal const string PostgresSuffix = "-pg";

    /// <summary>
    /// The deployments of <c>--store</c> (a comma list of <c>sqlite</c> and <c>postgresql</c>, or one PostgreSQL admin connection
    /// string) times <c>--ns-nodes</c> (a comma list of node counts), in that order. SQLite holds one node only: with a list
    /// that also runs PostgreSQL, its several-node runs are left out; asked for alone, they are an error.
    /// </summary>
    public static (IReadOnlyList<NsDeployment> Deployments, IReadOnlyList<string> Errors) Parse(string? store, string? nodes)
    {
        var errors = new List<string>();
        var stores = new List<(StoreKind Kind, string? Admin)>();
        var storeText = string.IsNullOrWhiteSpace(store) ? "sqlite" : store.Trim();
        if (storeText.Contains('=', StringComparison.Ordinal))
        {
            stores.Add((StoreKind.PostgreSql, storeText));
        }
        else
        {
            foreach (var part in storeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                switch (part.ToLowerInvariant())
                {
                    case "sqlite":
                        stores.Add((StoreKind.Sqlite, null));
                        break;
                    case "postgresql" or "postgres":
                        stores.Add((StoreKind.PostgreSql, null));
                        break;
                    default:
                        errors.Add($"--store '{part}' is not a store: use sqlite, postgresql (a throwaway server), a comma list of both, or a PostgreSQL admin connection string (Host=...;Username=...;Password=...).");
                        break;
                }
            }
        }

        var counts = new List<int>();
        foreach (var part in (string.IsNullOrWhiteSpace(nodes) ? "1" : nodes).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count is < 1 or > MaxNodes)
            {
                errors.Add($"--ns-nodes '{part}' is not a node count from 1 to {MaxNodes}.");
            }
            else
            {
                counts.Add(count);
            }
        }

        if (errors.Count > 0)
        {
            return ([], errors);
        }

        if (counts.Any(c => c > 1) && stores.All(s => s.Kind == StoreKind.Sqlite))
        {
            return ([], [$"--ns-nodes {counts.Max()} needs --store postgresql (or a PostgreSQL connection string): several NS nodes share one database, and the SQLite file serves one node only."]);
        }

        var deployments = (from s in stores.Distinct()
                           from n in counts.Distinct()
                           where s.Kind == StoreKind.PostgreSql || n == 1
                           select new NsDeployment(s.Kind, n, s.Admin)).ToList();
        return (deployments, []);
    }
}
