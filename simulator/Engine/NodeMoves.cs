namespace Tcm.Simulator.Engine;

/// <summary>
/// With several Notification Server nodes: which node each agent's persistent channel was last seen on, at every tick, and how many
/// agents were seen on one node and later on another (the report's "agents moved").
/// </summary>
internal sealed class NodeMoves(int agents)
{
    private readonly string?[] _last = new string?[agents];
    private readonly bool[] _moved = new bool[agents];
    private readonly SortedDictionary<string, int> _moves = new(StringComparer.Ordinal);

    /// <summary>Agents seen on one node and later on another.</summary>
    public int Moved => _moved.Count(m => m);

    public void Observe(FleetSnapshot snapshot)
    {
        for (var i = 0; i < _last.Length; i++)
        {
            if (snapshot.PersistentNode(i) is not { } node)
            {
                continue;
            }

            if (_last[i] is { } before && before != node)
            {
                _moved[i] = true;
                var key = $"{before} -> {node}";
                _moves[key] = _moves.GetValueOrDefault(key) + 1;
            }

            _last[i] = node;
        }
    }

    /// <summary>The report's note: the persistent channels each node holds at the end, and the moves between nodes.</summary>
    public string Note(FleetSnapshot end)
    {
        var atEnd = end.PersistentByNode();
        var moves = _moves.Count == 0 ? "none" : string.Join(", ", _moves.Select(m => $"{m.Key} {m.Value}"));
        return $"nodes: persistent channels at the end {(atEnd.Count == 0 ? "none" : string.Join(", ", atEnd.Select(n => $"{n.Key} {n.Value}")))}; "
            + $"{Moved} agents moved to another node during the run (moves: {moves})";
    }
}
