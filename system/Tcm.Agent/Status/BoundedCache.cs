using System.Collections.Concurrent;

namespace Tcm.Agent.Status;

/// <summary>
/// One shared instance per distinct key in the process (what every agent of a simulator sees alike: a server's certificate, a TLS
/// combination), so an agent holds a reference instead of a copy. Emptied when full: the bound only guards against a server that
/// changes what it presents at every handshake.
/// </summary>
internal sealed class BoundedCache<TKey, TValue>(int capacity, IEqualityComparer<TKey>? comparer = null) where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, TValue> _items = new(comparer);

    public TValue GetOrAdd<TArg>(TKey key, Func<TKey, TArg, TValue> create, TArg argument)
    {
        if (_items.TryGetValue(key, out var known))
        {
            return known;
        }

        if (_items.Count >= capacity)
        {
            _items.Clear();
        }

        return _items.GetOrAdd(key, create, argument);
    }
}
