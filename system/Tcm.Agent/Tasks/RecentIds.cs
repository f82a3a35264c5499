namespace Tcm.Agent.Tasks;

/// <summary>
/// The last <c>capacity</c> distinct ids seen, oldest forgotten first: what the agent remembers of tasks it ran (<see cref="DeliveryBook"/>)
/// and of cancels that came before their task (<see cref="RunningTasks"/>). Not thread-safe: its owner locks.
/// </summary>
/// <remarks>
/// why an append-only buffer rather than a queue: the agent saves its state once per push, and the saved state holds the ids. A
/// <see cref="Snapshot"/> is a view of the buffer's live slots, and a slot is written only past the end of every view handed out and
/// never written again, so a view never changes once made and costs no copy of up to <c>capacity</c> ids. When the buffer is full the
/// live ids move to a new one (room for as many again, at most twice the capacity): one copy per as many adds, whatever the count.
/// </remarks>
internal sealed class RecentIds(int capacity)
{
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private string[] _buffer = [];
    // The live ids are _buffer[_start.._end), oldest first.
    private int _start;
    private int _end;

    /// <summary>How many ids are remembered.</summary>
    public int Count => _end - _start;

    /// <summary>The ids, oldest first, as they are now: later adds do not change it.</summary>
    public IReadOnlyList<string> Snapshot() => new ArraySegment<string>(_buffer, _start, _end - _start);

    public bool Contains(string id) => _ids.Contains(id);

    /// <summary>Remembers <paramref name="id"/> (once), forgetting the oldest beyond the capacity.</summary>
    public void Add(string id)
    {
        if (!_ids.Add(id))
        {
            return;
        }

        if (_end == _buffer.Length)
        {
            MoveToNewBuffer();
        }

        _buffer[_end++] = id;
        if (_end - _start > capacity)
        {
            // The slot keeps its id: an earlier snapshot may still hold it.
            _ids.Remove(_buffer[_start++]);
        }
    }

    private void MoveToNewBuffer()
    {
        var count = _end - _start;
        var next = new string[Math.Min(Math.Max(2 * count, 4), 2 * capacity + 1)];
        Array.Copy(_buffer, _start, next, 0, count);
        _buffer = next;
        _start = 0;
        _end = count;
    }
}
