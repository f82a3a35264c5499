namespace Tcm.Testing;

/// <summary>
/// What a test started and must stop: each resource is disposed once, newest first (an agent before the server it talks to, a
/// writer before its database, a browser before the agents it shows), asynchronously where it can be. Safe to add to from
/// several threads; disposing stops at the first resource that throws, as a test's own <c>await using</c> chain would.
/// </summary>
public sealed class OwnedResources : IAsyncDisposable
{
    private readonly Stack<object> _owned = new();

    /// <summary>Disposes <paramref name="resource"/> with the others, before what was owned earlier; returns it.</summary>
    public T Own<T>(T resource)
        where T : class
    {
        if (resource is not (IAsyncDisposable or IDisposable))
        {
            throw new ArgumentException($"{resource.GetType().Name} is not disposable", nameof(resource));
        }

        lock (_owned)
        {
            _owned.Push(resource);
        }

        return resource;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        while (Next() is { } owned)
        {
            if (owned is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync();
            }
            else
            {
                ((IDisposable)owned).Dispose();
            }
        }
    }

    private object? Next()
    {
        lock (_owned)
        {
            return _owned.TryPop(out var owned) ? owned : null;
        }
    }
}
