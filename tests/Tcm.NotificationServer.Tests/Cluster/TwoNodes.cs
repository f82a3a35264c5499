using Microsoft.Extensions.DependencyInjection;
using Tcm.Lab.Storage;
using Tcm.NotificationServer.Cluster;

namespace Tcm.NotificationServer.Tests.Cluster;

/// <summary>
/// Two Notification Server nodes, <c>node-a</c> and <c>node-b</c>, on one database (the same SQLite data folder, which two servers in one
/// process may share), each telling the other of the pushes it stored through <paramref name="SignalA"/> / <paramref name="SignalB"/>.
/// Agents are registered on node A before node B starts, so both know them.
/// </summary>
internal sealed record TwoNodes(NotificationServerHost A, NotificationServerHost B, TestAgent[] Agents, INodeSignal SignalA, INodeSignal SignalB, string Folder)
    : IAsyncDisposable
{
    /// <summary>
    /// Starts node A with <paramref name="agents"/> registered, then node B. <paramref name="signal"/> makes each node's signal from its
    /// name and its own receiver, resolved once the node runs; by default a <see cref="LoopbackNodeSignal"/> to the other node.
    /// <paramref name="store"/>: the database both share; null, what <c>TCM_TEST_STORE</c> picks.
    /// </summary>
    public static async Task<TwoNodes> StartAsync(int agents = 1, Func<string, INodeSignalReceiver, Task<INodeSignal>>? signal = null, StoreKind? store = null)
    {
        var folder = Path.Combine(Path.GetTempPath(), "tcm-tests", "nodes-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
        var loopA = new LoopbackNodeSignal();
        var loopB = new LoopbackNodeSignal();
        NotificationServerHost? a = null;
        NotificationServerHost? b = null;
        try
        {
            a = await StartNodeAsync("node-a", folder, loopA, store);
            var registered = new TestAgent[agents];
            for (var i = 0; i < agents; i++)
            {
                registered[i] = await a.RegisterAgentAsync($"PC-{i:0000}");
            }

            b = await StartNodeAsync("node-b", folder, loopB, store);
            var receiverA = a.Services.GetRequiredService<NodeCatchUp>();
            var receiverB = b.Services.GetRequiredService<NodeCatchUp>();
            loopA.Peer = receiverB;
            loopB.Peer = receiverA;
            loopA.PeerChanges = b.Services.GetRequiredService<NodeChanges>();
            loopB.PeerChanges = a.Services.GetRequiredService<NodeChanges>();
            if (signal is null)
            {
                return new TwoNodes(a, b, registered, loopA, loopB, folder);
            }

            var signalA = await signal("node-a", receiverA);
            var signalB = await signal("node-b", receiverB);
            loopA.Inner = signalA;
            loopB.Inner = signalB;
            return new TwoNodes(a, b, registered, signalA, signalB, folder);
        }
        catch
        {
            await DisposeAsync(a, b, folder);
            throw;
        }
    }

    /// <summary>The agent as node B sees it: the same registration, calling node B.</summary>
    public TestAgent OnB(TestAgent agent) => new(B, new RegisteredAgent(agent.Registration, agent.Certificate));

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in Agents)
        {
            agent.Dispose();
        }

        await DisposeAsync(A, B, Folder);
    }

    private static Task<NotificationServerHost> StartNodeAsync(string name, string folder, LoopbackNodeSignal signal, StoreKind? store) =>
        NotificationServerHost.StartAsync(
            tcmEnabled: true, dataDirectory: folder, configure: o => o.NodeName = name, store: store, services: s => s.AddSingleton<INodeSignal>(signal));

    private static async Task DisposeAsync(NotificationServerHost? a, NotificationServerHost? b, string folder)
    {
        if (b is not null)
        {
            await b.DisposeAsync();
        }

        if (a is not null)
        {
            await a.DisposeAsync();
        }

        // why: also drops the PostgreSQL database both nodes ran on.
        TestFolders.TryDelete(folder);
    }
}

/// <summary>
/// A node signal inside one process: what a node stored goes straight to the other node's receiver (<see cref="Peer"/>), or, once
/// <see cref="Inner"/> is set, through that signal instead; while <see cref="Lost"/>, nowhere, as when the other node's listening
/// connection is down.
/// </summary>
internal sealed class LoopbackNodeSignal : INodeSignal
{
    private readonly Lock _lock = new();
    private Task _last = Task.CompletedTask;

    /// <summary>Whether signals are lost (the other node does not listen), until it is set false again.</summary>
    public bool Lost { get; set; }

    public INodeSignalReceiver? Peer { get; set; }

    public INodeSignal? Inner { get; set; }

    public bool Shared => true;

    public void PushesStored(IEnumerable<(string AgentId, long Seq)> pushes)
    {
        if (Inner is { } inner)
        {
            inner.PushesStored(pushes);
            return;
        }

        var list = pushes.ToList();
        if (Peer is { } peer && !Lost)
        {
            // why: in the order stored, off the storing node's thread, as a real signal would arrive.
            lock (_lock)
            {
                _last = _last.ContinueWith(_ => peer.StoredElsewhereAsync(list, CancellationToken.None), TaskScheduler.Default).Unwrap();
            }
        }
    }

    /// <summary>The other node's changes reader, once it runs (changes are told to it, as <see cref="Peer"/> is told of pushes).</summary>
    public INodeChangeReceiver? PeerChanges { get; set; }

    public void Changed(NodeChange change)
    {
        if (Inner is { } inner)
        {
            inner.Changed(change);
            return;
        }

        if (PeerChanges is { } peer && !Lost)
        {
            lock (_lock)
            {
                _last = _last.ContinueWith(_ => peer.ChangedElsewhereAsync(change, CancellationToken.None), TaskScheduler.Default).Unwrap();
            }
        }
    }

    public Task RunAsync(CancellationToken stoppingToken) => Task.CompletedTask;
}
