using System.Collections.Concurrent;

namespace Tcm.NotificationServer.Cluster;

/// <summary>What a node keeps in memory from the store and another node can change (<see cref="NodeChange"/>).</summary>
internal enum NodeChangeKind
{
    /// <summary>The server settings, communication profiles, targeted settings or Task Server selection: every agent's policy.</summary>
    Policy,

    /// <summary>A site server (gateway or Task Server) created, registered or moved; the id names it.</summary>
    SiteServer,

    /// <summary>An admin key added or revoked.</summary>
    AdminKeys,

    /// <summary>An agent registered; the id names it.</summary>
    Agent,

    /// <summary>An install package (its registration token) created.</summary>
    InstallPackages,

    /// <summary>Tasks for Task Servers stored, accepted or delivered; the id names their action.</summary>
    TaskServerTasks,

    /// <summary>An action of tasks for Task Servers cancelled; the id names it.</summary>
    TaskServerCancel,

    /// <summary>An agent moved to another Task Server; the id names the agent.</summary>
    TaskServerAgent,
}

/// <summary>One change another node committed: what changed, and which item when one is named (null: read all of that kind again).</summary>
internal readonly record struct NodeChange(NodeChangeKind Kind, string? Id = null)
{
    private static readonly Dictionary<string, NodeChangeKind> Kinds =
        Enum.GetValues<NodeChangeKind>().ToDictionary(static k => k.ToString(), StringComparer.Ordinal);

    /// <summary>The text a change travels as: the kind's name, then <c>:id</c> when it names one.</summary>
    public override string ToString() => Id is null ? Kind.ToString() : $"{Kind}:{Id}";

    /// <summary>The change <paramref name="text"/> carries; false for text that is not one.</summary>
    public static bool TryParse(string text, out NodeChange change)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var ok = Kinds.TryGetValue(colon < 0 ? text : text[..colon], out var kind);
        change = ok ? new NodeChange(kind, colon < 0 ? null : text[(colon + 1)..]) : default;
        return ok;
    }
}

/// <summary>
/// The receiving end of the change signal: each folder that keeps something of the store in memory says here how it reads a change
/// of it again (<see cref="On"/>, wired by the server at start), and the node signal hands it what the other nodes committed.
/// </summary>
internal sealed partial class NodeChanges(ILogger<NodeChanges> logger) : INodeChangeReceiver
{
    private readonly ConcurrentDictionary<NodeChangeKind, Func<string?, CancellationToken, Task>> _readers = new();

    /// <summary>How many changes of other nodes this node has read again (a test waits on it).</summary>
    private long _applied;

    /// <summary>Changes of other nodes applied so far.</summary>
    public long Applied => Interlocked.Read(ref _applied);

    /// <summary>
    /// How this node reads a change of <paramref name="kind"/> again from the store: given the changed item's id, or null for all of
    /// that kind. One reader per kind.
    /// </summary>
    public void On(NodeChangeKind kind, Func<string?, CancellationToken, Task> reread)
    {
        if (!_readers.TryAdd(kind, reread))
        {
            throw new InvalidOperationException($"A reader of {kind} changes is set already.");
        }
    }

    /// <inheritdoc/>
    /// <remarks>A read that fails is logged: what it should have read stays as it was until the next change of that kind.</remarks>
    public async Task ChangedElsewhereAsync(NodeChange change, CancellationToken cancellationToken)
    {
        if (_readers.TryGetValue(change.Kind, out var reread))
        {
            try
            {
                await reread(change.Id, cancellationToken).ConfigureAwait(false);
                Log.Applied(logger, change.ToString());
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.RereadFailed(logger, change.ToString(), ex);
            }
        }

        Interlocked.Increment(ref _applied);
    }

    /// <inheritdoc/>
    public async Task EverythingChangedAsync(CancellationToken cancellationToken)
    {
        foreach (var kind in Enum.GetValues<NodeChangeKind>())
        {
            await ChangedElsewhereAsync(new NodeChange(kind), cancellationToken).ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1010, Level = LogLevel.Debug, Message = "Node change: read {Change} again from the store, as another node changed it")]
        public static partial void Applied(ILogger logger, string change);

        [LoggerMessage(EventId = 1011, Level = LogLevel.Error, Message = "Node change: could not read {Change} again from the store; it stays as it was until its next change")]
        public static partial void RereadFailed(ILogger logger, string change, Exception exception);
    }
}

/// <summary>
/// The text of one change signal: the sending node's name on the first line, then one <see cref="NodeChange"/> a line. Changes are few
/// and short; a batch that would not fit one notification (<see cref="NodeSignalPayload.MaxLength"/>) is cut into several.
/// </summary>
internal static class NodeChangePayload
{
    /// <summary>The payloads that carry <paramref name="changes"/> (each once) from <paramref name="node"/>.</summary>
    public static List<string> Encode(string node, IEnumerable<NodeChange> changes)
    {
        var payloads = new List<string>();
        var text = new System.Text.StringBuilder();
        foreach (var change in changes.Distinct())
        {
            var line = change.ToString();
            if (text.Length > 0 && text.Length + 1 + line.Length > NodeSignalPayload.MaxLength)
            {
                payloads.Add(text.ToString());
                text.Clear();
            }

            text.Append(text.Length == 0 ? node : "").Append('\n').Append(line);
        }

        if (text.Length > 0)
        {
            payloads.Add(text.ToString());
        }

        return payloads;
    }

    /// <summary>The sender and the changes of one payload; false for text that is not a change signal.</summary>
    public static bool TryDecode(string payload, out string node, out List<NodeChange> changes)
    {
        changes = [];
        var lines = payload.Split('\n');
        node = lines[0];
        if (lines.Length < 2 || node.Length == 0)
        {
            return false;
        }

        foreach (var line in lines.AsSpan(1))
        {
            if (!NodeChange.TryParse(line, out var change))
            {
                return false;
            }

            changes.Add(change);
        }

        return true;
    }
}
