using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Gateways;

/// <summary>
/// The gateways' rows in the store (schema version 8): <c>gateway_states</c> (the latest report, when it arrived, and the node holding
/// the decision poll) and <c>gateway_decisions</c> (the administrators' decisions a gateway has not acknowledged yet).
/// </summary>
internal sealed class GatewayStore(TcmStore store)
{
    /// <summary>What the store holds of every gateway with a row, or of <paramref name="gatewayId"/> alone (an empty entry when it holds nothing).</summary>
    public Dictionary<string, StoredGateway> Load(string? gatewayId)
    {
        var where = gatewayId is null ? "" : " WHERE gateway_id=@p0";
        ReadOnlySpan<object?> args = gatewayId is null ? [] : [gatewayId];
        var gateways = new Dictionary<string, StoredGateway>(StringComparer.Ordinal);
        if (gatewayId is not null)
        {
            gateways[gatewayId] = new StoredGateway();
        }

        foreach (var (id, report, reportedAt, pollNode) in store.Query(
            "SELECT gateway_id, report, reported_at, poll_node FROM gateway_states" + where,
            static r => (r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.IsDBNull(2) ? (long?)null : r.GetInt64(2), r.IsDBNull(3) ? null : r.GetString(3)),
            args))
        {
            gateways[id] = new StoredGateway
            {
                Report = report is null ? null : TcmStore.Deserialize(report, ProtocolJsonContext.Default.GatewayReport),
                ReportedAt = reportedAt is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null,
                PollNode = pollNode,
            };
        }

        foreach (var (id, decision) in store.Query(
            "SELECT gateway_id, id, thumbprint, action, decided_at FROM gateway_decisions" + where + " ORDER BY decided_at, id",
            static r => (r.GetString(0), new GatewayDecision(r.GetString(1), r.GetString(2), Enum.Parse<GatewayCertificateAction>(r.GetString(3)),
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)))),
            args))
        {
            if (!gateways.TryGetValue(id, out var gateway))
            {
                gateways[id] = gateway = new StoredGateway();
            }

            gateway.Pending.Add(decision);
        }

        return gateways;
    }

    /// <summary>Keeps <paramref name="report"/>, received at <paramref name="at"/>, as the gateway's latest.</summary>
    public Task SaveReportAsync(string gatewayId, GatewayReport report, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var json = TcmStore.Serialize(report, ProtocolJsonContext.Default.GatewayReport);
        return store.Writer.WriteAsync(ctx => ctx.Execute(
            "INSERT INTO gateway_states(gateway_id, report, reported_at) VALUES(@p0,@p1,@p2) ON CONFLICT(gateway_id) DO UPDATE SET report=excluded.report, reported_at=excluded.reported_at",
            gatewayId, json, at.ToUnixTimeMilliseconds()), cancellationToken);
    }

    /// <summary>Stores <paramref name="decision"/>, in place of any decision on the same certificate not acknowledged yet.</summary>
    public Task AddDecisionAsync(string gatewayId, GatewayDecision decision, CancellationToken cancellationToken) =>
        store.Writer.WriteAsync(ctx =>
        {
            ctx.Execute("DELETE FROM gateway_decisions WHERE gateway_id=@p0 AND thumbprint=@p1", gatewayId, decision.Thumbprint);
            ctx.Execute("INSERT INTO gateway_decisions(id, gateway_id, thumbprint, action, decided_at) VALUES(@p0,@p1,@p2,@p3,@p4)",
                decision.Id, gatewayId, decision.Thumbprint, decision.Action.ToString(), decision.DecidedAt.ToUnixTimeMilliseconds());
        }, cancellationToken);

    /// <summary>Forgets the decisions the gateway acknowledged.</summary>
    public Task RemoveDecisionsAsync(string gatewayId, IReadOnlyCollection<string> decisionIds, CancellationToken cancellationToken) =>
        store.Writer.WriteAsync(ctx =>
        {
            foreach (var id in decisionIds)
            {
                ctx.Execute("DELETE FROM gateway_decisions WHERE gateway_id=@p0 AND id=@p1", gatewayId, id);
            }
        }, cancellationToken);

    /// <summary>
    /// Records that <paramref name="node"/> holds the gateway's decision poll now (<paramref name="holds"/>) or no longer; <paramref name="committed"/>
    /// runs once it is written. Giving it up leaves another node's name in place (the poll moved there).
    /// </summary>
    public void PostPoll(string gatewayId, string node, bool holds, Action committed) =>
        store.Writer.Post(
            ctx => ctx.Execute(
                holds
                    ? "INSERT INTO gateway_states(gateway_id, poll_node) VALUES(@p0,@p1) ON CONFLICT(gateway_id) DO UPDATE SET poll_node=excluded.poll_node"
                    : "UPDATE gateway_states SET poll_node=NULL WHERE gateway_id=@p0 AND poll_node=@p1",
                gatewayId, node),
            "gateway poll",
            committed);

    /// <summary>A starting node holds no gateway's poll: forgets its name where a previous run of it left it.</summary>
    public void PostForgetPolls(string node) =>
        store.Writer.Post(ctx => ctx.Execute("UPDATE gateway_states SET poll_node=NULL WHERE poll_node=@p0", node), "gateway polls");
}

/// <summary>What the store holds of one gateway.</summary>
internal sealed class StoredGateway
{
    public GatewayReport? Report { get; init; }
    public DateTimeOffset? ReportedAt { get; init; }
    public string? PollNode { get; init; }
    public List<GatewayDecision> Pending { get; } = [];
}
