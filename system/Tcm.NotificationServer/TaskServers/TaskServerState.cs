using Tcm.Hosting.Signals;
using Tcm.NotificationServer.SiteServers;

namespace Tcm.NotificationServer.TaskServers;

/// <summary>The live state of one Task Server at the NS.</summary>
internal sealed class TaskServerState(SiteServerRecord record)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, bool> _agents = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly HashSet<string> _released = new(StringComparer.Ordinal);
    private readonly HashSet<TaskServerTaskRef> _cancelled = [];
    // Cancels in the work last handed out: the Task Server has them once it polls again (then they leave the store).
    private readonly HashSet<TaskServerTaskRef> _cancelsSent = [];
    private int _polling;

    public SiteServerRecord Record { get; } = record;

    /// <summary>Wakes the Task Server's long poll.</summary>
    public WorkSignal Signal { get; } = new();

    public DateTimeOffset LastContact { get; set; }

    /// <summary>Long polls open now.</summary>
    public int Polling => Volatile.Read(ref _polling);

    public int AgentCount
    {
        get
        {
            lock (_gate)
            {
                return _agents.Count;
            }
        }
    }

    public int ConnectedCount
    {
        get
        {
            lock (_gate)
            {
                return _agents.Values.Count(c => c);
            }
        }
    }

    public List<string> AgentIds
    {
        get
        {
            lock (_gate)
            {
                return [.. _agents.Keys];
            }
        }
    }

    public void BeginPoll() => Interlocked.Increment(ref _polling);

    public void EndPoll() => Interlocked.Decrement(ref _polling);

    public void SetAgent(string agentId, bool connected)
    {
        lock (_gate)
        {
            _agents[agentId] = connected;
            _released.Remove(agentId);
        }
    }

    public void RemoveAgent(string agentId)
    {
        lock (_gate)
        {
            _agents.Remove(agentId);
            _dirty.Remove(agentId);
        }
    }

    public void Release(string agentId)
    {
        lock (_gate)
        {
            _agents.Remove(agentId);
            _dirty.Remove(agentId);
            _released.Add(agentId);
        }

        Signal.Set();
    }

    public void MarkDirty(string agentId)
    {
        lock (_gate)
        {
            _dirty.Add(agentId);
        }
    }

    public void ClearDirty(string agentId)
    {
        lock (_gate)
        {
            _dirty.Remove(agentId);
        }
    }

    public List<string> DirtyAgents()
    {
        lock (_gate)
        {
            return [.. _dirty];
        }
    }

    /// <summary>A task this Task Server holds was cancelled: it goes with the next work, which it wakes.</summary>
    public void Cancel(TaskServerTaskRef task)
    {
        lock (_gate)
        {
            _cancelled.Add(task);
        }

        Signal.Set();
    }

    /// <summary>The cancels to hand out now; they count as sent until <see cref="TakeSentCancels"/> or <see cref="ForgetSentCancels"/>.</summary>
    public IReadOnlyList<TaskServerTaskRef> TakeCancelled()
    {
        var taken = Take(_cancelled);
        lock (_gate)
        {
            _cancelsSent.UnionWith(taken);
        }

        return taken;
    }

    /// <summary>The Task Server polls again: the cancels handed out before reached it.</summary>
    public IReadOnlyList<TaskServerTaskRef> TakeSentCancels() => Take(_cancelsSent);

    /// <summary>The Task Server starts afresh (a full report): what was handed out may not have reached it, and is read from the store again.</summary>
    public void ForgetSentCancels() => Take(_cancelsSent);

    public IReadOnlyList<string> TakeReleased() => Take(_released);

    private List<T> Take<T>(ICollection<T> items)
    {
        lock (_gate)
        {
            if (items.Count == 0)
            {
                return [];
            }

            var taken = items.ToList();
            items.Clear();
            return taken;
        }
    }
}
