namespace Tcm.Agent.Tasks;

/// <summary>
/// The last <c>capacity</c> distinct ids seen, oldest forgotten first: what the agent remembers of tasks it ran (<see cref="DeliveryBook"/>)
/// and of cancels that came before their task (<see cref="RunningTasks"/>). Not thread-safe: its owner locks.
/// </summary>
internal sealed class RecentIds(int capacity)
{
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    /// <summary>The ids, oldest first, as a new array of exactly their number (a copy, not a list grown while enumerating).</summary>
    public string[] ToArray() => _order.ToArray();

    public bool Contains(string id) => _ids.Contains(id);

    /// <summary>Remembers <paramref name="id"/> (once), forgetting the oldest beyond the capacity.</summary>
    public void Add(string id)
    {
        if (!_ids.Add(id))
        {
            return;
        }

        _order.Enqueue(id);
        while (_order.Count > capacity)
        {
            _ids.Remove(_order.Dequeue());
        }
    }
}
