using Tcm.Channels.Delivery;
using Tcm.NotificationServer.Store;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Agents;

/// <summary>
/// An agent as the server keeps it in memory: its registration, delivery counters and last reported state.
/// The store holds the same row; hot paths read only this object.
/// </summary>
internal sealed class AgentRecord : PushSequence
{
    private long _lastContactMs;
    private long _persistedContactMs;
    private string? _node;
    private string? _heldBy;
    private int _nodeChanged;

    public required string Id { get; init; }
    public required string ComputerName { get; init; }
    public string? Domain { get; init; }
    public string? OsName { get; init; }
    public required IReadOnlyDictionary<string, string> Attributes { get; init; }
    public DateTimeOffset RegisteredAt { get; init; }

    /// <summary>The Network Status the agent last posted or returned.</summary>
    public NetworkStatus? NetworkStatus { get; set; }

    /// <summary>
    /// The route the agent's last hello reported: to this node, or, read from the store, to the node that holds its connection (several
    /// nodes on one database), or through the gateway its last call here came by.
    /// </summary>
    public string? Route { get; set; }

    /// <summary>The agent's last hello said it understands <c>task.cancel</c> (an agent that predates it closes on an unknown kind).</summary>
    public bool AcceptsTaskCancel { get; set; }

    /// <summary>
    /// The Notification Server node that holds the agent's persistent connection: this node's name from the hello until the channel
    /// ends; another node's as the store last said (several nodes on one database); null when none does.
    /// </summary>
    public string? Node => Volatile.Read(ref _node);

    public long BytesSent;
    public long BytesReceived;

    /// <summary>The policy computed for the agent and the configuration version it was computed from (one reference, so never torn).</summary>
    public CachedPolicy? CachedPolicy { get; set; }

    public DateTimeOffset? LastContact
    {
        get
        {
            var ms = Interlocked.Read(ref _lastContactMs);
            return ms == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(ms);
        }
    }

    /// <summary>The in-memory agent for a stored row.</summary>
    public static AgentRecord FromStored(StoredAgent row)
    {
        var agent = new AgentRecord
        {
            Id = row.Id,
            ComputerName = row.ComputerName,
            Domain = row.Domain,
            OsName = row.OsName,
            Attributes = row.Attributes,
            RegisteredAt = row.RegisteredAt,
            NetworkStatus = row.NetworkStatus,
            Route = row.Route,
            _node = row.Node,
        };
        agent.InitializeState(row.NextSeq, row.AckedSeq, row.LastContactMs);
        return agent;
    }

    internal void InitializeState(long nextSeq, long ackedSeq, long? lastContactMs)
    {
        InitializeSequence(nextSeq, ackedSeq);
        _lastContactMs = lastContactMs ?? 0;
        _persistedContactMs = _lastContactMs;
    }

    public void Touch(DateTimeOffset now) => Interlocked.Exchange(ref _lastContactMs, now.ToUnixTimeMilliseconds());

    /// <summary>
    /// The store heard of the agent at <paramref name="lastContactMs"/> (another node did): kept when later than what this node knows, and
    /// not written back.
    /// </summary>
    public void SeenContact(long lastContactMs)
    {
        // why this order: between the two, a flush of contacts writes the store's own value, never an older one over it.
        RaiseTo(ref _lastContactMs, lastContactMs);
        RaiseTo(ref _persistedContactMs, lastContactMs);
    }

    private static void RaiseTo(ref long field, long value)
    {
        long current;
        while (value > (current = Interlocked.Read(ref field)) && Interlocked.CompareExchange(ref field, value, current) != current)
        {
        }
    }

    /// <summary>Whether the last contact changed since it was last written; marks it written.</summary>
    public bool TryTakeDirtyContact(out long lastContactMs)
    {
        lastContactMs = Interlocked.Read(ref _lastContactMs);
        if (lastContactMs == Interlocked.Read(ref _persistedContactMs))
        {
            return false;
        }

        Interlocked.Exchange(ref _persistedContactMs, lastContactMs);
        return true;
    }

    /// <summary>This node took or gave up the agent's connection (null: gave up); the store learns it with the next batch of contacts.</summary>
    public void HeldBy(string? node)
    {
        Volatile.Write(ref _heldBy, node);
        Volatile.Write(ref _node, node);
        Volatile.Write(ref _nodeChanged, 1);
    }

    /// <summary>
    /// What the store says of an agent this node does not hold: which node does, if any; not written back. Ignored when
    /// <see cref="Node"/> is no longer <paramref name="expected"/> (the agent's hello here came in between).
    /// </summary>
    public void SeenOn(string? expected, string? node)
    {
        while (true)
        {
            // why: names read from the store are other string instances than this node's; compare the text, swap the instance seen.
            var current = Volatile.Read(ref _node);
            if (!string.Equals(current, expected, StringComparison.Ordinal) || ReferenceEquals(Interlocked.CompareExchange(ref _node, node, current), current))
            {
                return;
            }
        }
    }

    /// <summary>Whether this node took or gave up the agent's connection since it was last written, and what it did (its name or null); marks it written.</summary>
    public bool TryTakeChangedNode(out string? node)
    {
        var changed = Interlocked.Exchange(ref _nodeChanged, 0) == 1;
        // why: what this node did, not what it last saw: a read of the other nodes' agents between the give-up and this write may have
        // put the store's stale name (this node's own, not yet cleared) in Node, and writing that back would keep it for ever.
        node = Volatile.Read(ref _heldBy);
        return changed;
    }

    /// <summary>A value for target rules: <c>computerName</c>, <c>domain</c>, <c>os</c>, or a registered attribute.</summary>
    public string? GetAttribute(string name)
    {
        if (string.Equals(name, "computerName", StringComparison.OrdinalIgnoreCase))
        {
            return ComputerName;
        }

        if (string.Equals(name, "domain", StringComparison.OrdinalIgnoreCase))
        {
            return Domain;
        }

        if (string.Equals(name, "os", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "osName", StringComparison.OrdinalIgnoreCase))
        {
            return OsName;
        }

        if (Attributes.TryGetValue(name, out var value))
        {
            return value;
        }

        foreach (var (key, v) in Attributes)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return v;
            }
        }

        return null;
    }
}

/// <summary>A policy and the configuration version it was computed from.</summary>
internal sealed record CachedPolicy(int Version, PolicyDocument Policy);
