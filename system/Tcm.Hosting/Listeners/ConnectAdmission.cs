using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Tcm.Hosting.Listeners;

/// <summary>
/// A connection's place in <see cref="ServerAdmission.Handshakes"/>, set as a feature of the connection (and so found from its
/// requests), given back once. On a server that admits TLS only (the Notification Server, the Task Server) it is given back when
/// the handshake is done. On one that holds it through the connect (<see cref="AdmissionOptions.ConnectHoldLimit"/>, the
/// gateway), it is given back when the server says the connect is done (<see cref="Done"/>: the first request answered, or its
/// relayed upgrade accepted by the backend), when the connection closes before that, or when the hold limit has passed since
/// admission (counted as expired; the connection goes on). Then the gate admits TLS handshakes only as fast as the server
/// finishes whole connects (TLS, the HTTP/2 preface, the relayed upgrade), not faster than it can carry them through.
/// </summary>
public sealed class ConnectAdmission
{
    private readonly AdmissionGate _gate;
    private readonly HeldConnects? _held;
    private int _released;

    internal ConnectAdmission(AdmissionGate gate, HeldConnects? held)
    {
        _gate = gate;
        _held = held;
        held?.Hold(this);
    }

    /// <summary>How a place was given back.</summary>
    internal enum End
    {
        /// <summary>The connect is done (TLS done, on a server that admits TLS only).</summary>
        Done,

        /// <summary>The handshake failed, or the connection closed before its connect was done.</summary>
        Failed,

        /// <summary>Held past the hold limit.</summary>
        Expired,
    }

    /// <summary>Where the held place sits among the held ones (its deadline); null when nothing holds it.</summary>
    internal LinkedListNode<DeadlineQueue<ConnectAdmission>.Due>? Node { get; set; }

    /// <summary>The connect of the connection that carries <paramref name="context"/> is done: its place goes to the next connection (if it still holds one).</summary>
    public static void Done(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Features.Get<ConnectAdmission>()?.Release(End.Done);
    }

    internal void Release(End end)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        _held?.Forget(this);
        if (end == End.Expired)
        {
            _gate.ExitExpired();
        }
        else
        {
            _gate.Exit(finished: end == End.Done);
        }
    }
}

/// <summary>The request middleware of a server that holds places through the connect (added by <c>MapTcmServerDefaults</c>).</summary>
internal static class ConnectAdmissionMiddleware
{
    /// <summary>
    /// Marks a request's connect done when the request ends (a tunnel's place is given back earlier, when the backend accepts it:
    /// <see cref="ConnectAdmission.Done"/>), so a connection holds its place for its first request at most.
    /// </summary>
    public static void Use(IApplicationBuilder app)
    {
        app.Use(static async (context, next) =>
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                ConnectAdmission.Done(context);
            }
        });
    }
}

/// <summary>
/// The places held through the connect (<see cref="AdmissionOptions.ConnectHoldLimit"/>), in admission order, with one timer for
/// all of them: a place still held at the limit is given back as expired. No timer per connection.
/// </summary>
internal sealed class HeldConnects : IDisposable
{
    private readonly Lock _lock = new();
    private readonly DeadlineQueue<ConnectAdmission> _places;

    public HeldConnects(TimeSpan limit, TimeProvider time) => _places = new DeadlineQueue<ConnectAdmission>(limit, time, Expire);

    /// <summary>Places held now.</summary>
    public int Count { get { lock (_lock) { return _places.Count; } } }

    public void Hold(ConnectAdmission place)
    {
        lock (_lock)
        {
            place.Node = _places.Add(place);
        }
    }

    public void Forget(ConnectAdmission place)
    {
        lock (_lock)
        {
            _places.Remove(place.Node);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _places.Dispose();

    private void Expire()
    {
        var expired = new List<ConnectAdmission>();
        lock (_lock)
        {
            _places.TakeExpired(expired);
        }

        foreach (var place in expired)
        {
            place.Release(ConnectAdmission.End.Expired);
        }
    }
}
