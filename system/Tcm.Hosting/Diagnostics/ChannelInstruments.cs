using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Tcm.Hosting.Diagnostics;

/// <summary>
/// An agent's connection as an operator slices it: the transport (<c>websocket-h1</c>, <c>websocket-h2</c> for a persistent
/// channel over HTTP/1.1 or HTTP/2, <c>http</c> for a polling request) and the route (<c>direct</c>, or <c>gateway</c> when a
/// CEM gateway relayed it).
/// </summary>
public readonly record struct ConnectionLabels(string Transport, string Route)
{
    /// <summary>The tag of the transport.</summary>
    public const string TransportTag = "transport";

    /// <summary>The tag of the route.</summary>
    public const string RouteTag = "route";

    /// <summary>The labels of a persistent channel accepted on <paramref name="request"/>.</summary>
    public static ConnectionLabels Channel(HttpRequest request, bool viaGateway)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new(HttpProtocol.IsHttp2(request.Protocol) ? "websocket-h2" : "websocket-h1", RouteOf(viaGateway));
    }

    /// <summary>The labels of an agent's HTTP request.</summary>
    public static ConnectionLabels Http(bool viaGateway) => new("http", RouteOf(viaGateway));

    /// <summary>The labels as tags.</summary>
    public TagList Tags => new() { { TransportTag, Transport }, { RouteTag, Route } };

    private static string RouteOf(bool viaGateway) => viaGateway ? "gateway" : "direct";
}

/// <summary>
/// The connection instruments the NS and the Task Server share: channels opened, closed and open now, and agent HTTP
/// requests, each by <see cref="ConnectionLabels"/>; totals kept for status endpoints.
/// </summary>
/// <param name="meter">The server's meter.</param>
/// <param name="prefix">The server's instrument prefix, e.g. <c>tcm.ns</c>.</param>
/// <param name="liveName">The name of the open-channels up-down counter (kept as each server first published it).</param>
public sealed class ChannelInstruments(System.Diagnostics.Metrics.Meter meter, string prefix, string liveName)
{
    private readonly CountedCounter _opened = new(meter, prefix + ".connections.opened", "{connection}", "Persistent channels accepted, by transport and route.");
    private readonly CountedCounter _closed = new(meter, prefix + ".connections.closed", "{connection}", "Persistent channels ended, by transport and route.");
    private readonly CountedUpDownCounter _live = new(meter, liveName, "{connection}", "Persistent channels open now, by transport and route.");
    private readonly CountedCounter _requests = new(meter, prefix + ".agent.requests", "{request}", "Agent HTTP requests (polls, statuses, results) accepted, by transport and route.");

    /// <summary>Channels accepted so far.</summary>
    public long Opened => _opened.Total;

    /// <summary>Channels ended so far.</summary>
    public long Closed => _closed.Total;

    /// <summary>Channels open now.</summary>
    public long Live => _live.Value;

    /// <summary>Agent HTTP requests so far.</summary>
    public long Requests => _requests.Total;

    /// <summary>A channel was accepted.</summary>
    public void ChannelOpened(ConnectionLabels labels)
    {
        var tags = labels.Tags;
        _opened.Add(1, tags);
        _live.Add(1, tags);
    }

    /// <summary>A channel ended.</summary>
    public void ChannelClosed(ConnectionLabels labels)
    {
        var tags = labels.Tags;
        _closed.Add(1, tags);
        _live.Add(-1, tags);
    }

    /// <summary>An agent's HTTP request was accepted.</summary>
    public void HttpRequest(bool viaGateway) => _requests.Add(1, ConnectionLabels.Http(viaGateway).Tags);
}
