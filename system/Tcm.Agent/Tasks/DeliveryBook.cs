using Tcm.Agent.State;
using Tcm.Protocol;

namespace Tcm.Agent.Tasks;

/// <summary>What to do with a push that arrived.</summary>
internal enum PushDisposition
{
    /// <summary>First time seen: act on it, then ack.</summary>
    New,
    /// <summary>Its sequence number was already received: ignore it, ack again.</summary>
    DuplicateSeq,
    /// <summary>A new sequence number for a task (or inventory request) already accepted: ack it, never run it twice.</summary>
    DuplicateTask,
}

/// <summary>
/// The agent's delivery bookkeeping ("nothing lost, nothing twice"): last received push per role, ids of tasks already accepted
/// (bounded), and results kept until the server acknowledges them. Thread-safe; the receive loop, task runners and HTTP poller share it.
/// </summary>
internal sealed class DeliveryBook
{
    /// <summary>How many task ids the agent remembers; older ones fall off (the server never re-sends a push that old).</summary>
    public const int DefaultTaskIdCapacity = 1000;

    private readonly Lock _gate = new();
    private long _lastNsSeq;
    private long _lastTsSeq;
    private readonly RecentIds _taskIds;
    // Few entries (results in flight), so a list keeps order at no cost.
    private readonly List<KeyValuePair<string, Message>> _results = [];
    private readonly Dictionary<string, ChannelRole> _resultRoles = new(StringComparer.Ordinal);
    // why: a task is saved about three times (push, result, its acknowledgement) while its ids and sequence numbers change once; the
    // parts of a snapshot that did not change since the last one are shared with it (they are never changed once handed out).
    private IReadOnlyList<string>? _taskIdsSnapshot;
    private IReadOnlyDictionary<ChannelRole, long>? _seqSnapshot;

    public DeliveryBook(AgentState? state = null, int taskIdCapacity = DefaultTaskIdCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(taskIdCapacity, 1);
        _taskIds = new RecentIds(taskIdCapacity);
        if (state is null)
        {
            return;
        }

        _lastNsSeq = state.LastReceivedSeq.GetValueOrDefault(ChannelRole.NotificationServer);
        _lastTsSeq = state.LastReceivedSeq.GetValueOrDefault(ChannelRole.TaskServer);
        foreach (var id in state.CompletedTaskIds)
        {
            _taskIds.Add(id);
        }

        foreach (var result in state.UnacknowledgedResults)
        {
            if (GetIdempotencyKey(result) is { } key)
            {
                _results.Add(new(key, result));
                if (state.ResultRoles.TryGetValue(key, out var role) && role != ChannelRole.NotificationServer)
                {
                    _resultRoles[key] = role;
                }
            }
        }
    }

    /// <summary>The highest sequence number received for <paramref name="role"/>; the cumulative ack.</summary>
    public long LastReceivedSeq(ChannelRole role)
    {
        lock (_gate)
        {
            return role == ChannelRole.TaskServer ? _lastTsSeq : _lastNsSeq;
        }
    }

    /// <summary>Records a push and says what to do with it. A new task id is remembered at once, so it is never run twice.</summary>
    public PushDisposition Record(ChannelRole role, PushMessage push)
    {
        ArgumentNullException.ThrowIfNull(push);
        lock (_gate)
        {
            ref var last = ref role == ChannelRole.TaskServer ? ref _lastTsSeq : ref _lastNsSeq;
            if (push.Seq <= last)
            {
                return PushDisposition.DuplicateSeq;
            }

            last = push.Seq;
            _seqSnapshot = null;
            var id = push switch
            {
                TaskPushMessage t => "task:" + t.TaskId,
                InventoryRequestMessage i => "inventory:" + i.RequestId,
                _ => null,
            };
            if (id is null)
            {
                return PushDisposition.New;
            }

            if (_taskIds.Contains(id))
            {
                return PushDisposition.DuplicateTask;
            }

            _taskIds.Add(id);
            _taskIdsSnapshot = null;
            return PushDisposition.New;
        }
    }

    /// <summary>Whether a task id was already accepted.</summary>
    public bool HasTask(string taskId)
    {
        lock (_gate)
        {
            return _taskIds.Contains("task:" + taskId);
        }
    }

    /// <summary>Keeps a result until <see cref="Acknowledge"/>; replaces a result of the same key.</summary>
    public void AddResult(Message result) => AddResult(result, ChannelRole.NotificationServer);

    /// <summary>Keeps a result for the server of <paramref name="role"/> (the one that pushed the task) until <see cref="Acknowledge"/>.</summary>
    public void AddResult(Message result, ChannelRole role)
    {
        var key = GetIdempotencyKey(result) ?? throw new ArgumentException("not a result message", nameof(result));
        lock (_gate)
        {
            // why a loop, not RemoveAll: a lambda over the key would be one more object per task.
            for (var i = _results.Count - 1; i >= 0; i--)
            {
                if (_results[i].Key == key)
                {
                    _results.RemoveAt(i);
                }
            }

            _results.Add(new(key, result));
            if (role == ChannelRole.NotificationServer)
            {
                _resultRoles.Remove(key);
            }
            else
            {
                _resultRoles[key] = role;
            }
        }
    }

    /// <summary>Forgets an acknowledged result; false when it was not pending.</summary>
    public bool Acknowledge(string idempotencyKey)
    {
        lock (_gate)
        {
            _resultRoles.Remove(idempotencyKey);
            // why a loop, not RemoveAll: a lambda over the key would be one more object per acknowledged result.
            var removed = false;
            for (var i = _results.Count - 1; i >= 0; i--)
            {
                if (_results[i].Key == idempotencyKey)
                {
                    _results.RemoveAt(i);
                    removed = true;
                }
            }

            if (_results.Count == 0)
            {
                // why: an idle agent keeps no array for the results of its last task (a simulator holds thousands of agents).
                _results.Capacity = 0;
            }

            return removed;
        }
    }

    /// <summary>Results not yet acknowledged, oldest first.</summary>
    public IReadOnlyList<Message> PendingResults()
    {
        lock (_gate)
        {
            return _results.Count == 0 ? [] : _results.ConvertAll(r => r.Value);
        }
    }

    /// <summary>Results for the server of <paramref name="role"/> not yet acknowledged, oldest first.</summary>
    public IReadOnlyList<Message> PendingResults(ChannelRole role)
    {
        lock (_gate)
        {
            return _results.Where(r => _resultRoles.GetValueOrDefault(r.Key, ChannelRole.NotificationServer) == role).Select(r => r.Value).ToList();
        }
    }

    /// <summary>Number of results not yet acknowledged.</summary>
    public int PendingResultCount
    {
        get
        {
            lock (_gate)
            {
                return _results.Count;
            }
        }
    }

    /// <summary>The bookkeeping part of a state snapshot, on top of <paramref name="state"/>'s identity and policy.</summary>
    public AgentState WriteTo(AgentState state) => WriteTo(state, state.Policy);

    /// <summary>
    /// A state snapshot: <paramref name="identity"/>'s identity, <paramref name="policy"/>, and the bookkeeping. One copy of the state
    /// per save (the policy set in the same copy, not in one made for it first).
    /// </summary>
    public AgentState WriteTo(AgentState identity, PolicyDocument? policy)
    {
        lock (_gate)
        {
            return identity with
            {
                Policy = policy,
                LastReceivedSeq = _seqSnapshot ??= new Dictionary<ChannelRole, long>
                {
                    [ChannelRole.NotificationServer] = _lastNsSeq,
                    [ChannelRole.TaskServer] = _lastTsSeq,
                },
                CompletedTaskIds = _taskIdsSnapshot ??= _taskIds.Snapshot(),
                UnacknowledgedResults = _results.ConvertAll(r => r.Value),
                // An empty map is the shared empty one: a saved state of an idle agent holds nothing it does not need.
                ResultRoles = _resultRoles.Count == 0 ? System.Collections.ObjectModel.ReadOnlyDictionary<string, ChannelRole>.Empty : new Dictionary<string, ChannelRole>(_resultRoles, StringComparer.Ordinal),
            };
        }
    }

    /// <summary>The idempotency key of a result message, or null for any other message.</summary>
    public static string? GetIdempotencyKey(Message message) => message switch
    {
        TaskResultMessage t => t.IdempotencyKey,
        InventoryResultMessage i => i.IdempotencyKey,
        _ => null,
    };
}
