namespace Tcm.NotificationServer.Cluster;

/// <summary>
/// How a Notification Server node tells the others sharing its database that pushes were stored: each node keeps its agents' sequence
/// numbers and channels in memory, so a push stored on node A reaches an agent connected to node B only when B hears of it.
/// </summary>
internal interface INodeSignal
{
    /// <summary>Whether other nodes may share this node's database (false: one node, nobody to tell).</summary>
    bool Shared { get; }

    /// <summary>
    /// After the pushes committed: the agents they were stored for, each with the highest sequence number stored for it. Returns at once
    /// (the signal goes out in the background); the single-node signal does not even enumerate <paramref name="pushes"/>.
    /// </summary>
    void PushesStored(IEnumerable<(string AgentId, long Seq)> pushes);

    /// <summary>
    /// After a change to something each node keeps in memory committed (<see cref="NodeChangeKind"/>): the other nodes read it again from
    /// the store. Returns at once; the single-node signal does nothing.
    /// </summary>
    void Changed(NodeChange change);

    /// <summary>Sends and hears signals until <paramref name="stoppingToken"/> is cancelled (run by <see cref="NodePresence"/>).</summary>
    Task RunAsync(CancellationToken stoppingToken);
}

/// <summary>One node on its own database: nobody to tell.</summary>
internal sealed class NoNodeSignal : INodeSignal
{
    public bool Shared => false;

    public void PushesStored(IEnumerable<(string AgentId, long Seq)> pushes)
    {
    }

    public void Changed(NodeChange change)
    {
    }

    public Task RunAsync(CancellationToken stoppingToken) => Task.CompletedTask;
}

/// <summary>What a node does with the signals of the others.</summary>
internal interface INodeSignalReceiver
{
    /// <summary>Another node stored pushes for these agents, each with the highest sequence number stored for it.</summary>
    Task StoredElsewhereAsync(IEnumerable<(string AgentId, long Seq)> pushes, CancellationToken cancellationToken);

    /// <summary>Signals may have been missed (the listening connection dropped): every agent as the store holds it now.</summary>
    Task EverythingStoredAsync(CancellationToken cancellationToken);
}

/// <summary>What a node does with the changes the others committed (<see cref="NodeChanges"/>).</summary>
internal interface INodeChangeReceiver
{
    /// <summary>Another node committed <paramref name="change"/>: read it again from the store.</summary>
    Task ChangedElsewhereAsync(NodeChange change, CancellationToken cancellationToken);

    /// <summary>Changes may have been missed (the listening connection dropped): read everything again.</summary>
    Task EverythingChangedAsync(CancellationToken cancellationToken);
}
