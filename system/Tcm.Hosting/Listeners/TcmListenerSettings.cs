using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Tcm.Hosting.Listeners;

/// <summary>
/// What a server adds to the shared HTTPS listener set-up: Kestrel limits, more ports, and connection middleware around the
/// TLS handshake. Filled in by the server's configure callback when Kestrel is configured.
/// </summary>
public sealed class TcmListenerSettings
{
    /// <summary>Ports listened on besides the options' <see cref="TcmServerOptions.Port"/>, with the same endpoints.</summary>
    public IList<int> MorePorts { get; } = [];

    /// <summary>Kestrel limits and server settings. Default: none beyond Kestrel's.</summary>
    public Action<KestrelServerOptions>? Kestrel { get; set; }

    /// <summary>Most HTTP/2 streams on one connection of a channel server (<see cref="AllowGatewayMultiplexing"/>).</summary>
    public const int GatewayStreamsPerConnection = 5_000;

    /// <summary>
    /// Lets a CEM gateway carry many agents' channels on one HTTP/2 connection: <see cref="GatewayStreamsPerConnection"/> streams
    /// instead of Kestrel's default of 100 (sets <see cref="Kestrel"/>). Why: the gateway opens another connection to its backend each
    /// time one is full, so at the default a fan-out to 2,000 agents through the gateway left the channel server on 20 connections,
    /// each writing its share of the pushes with its own flushes and TLS records, and the gateway reading them on 20 connections.
    /// </summary>
    public void AllowGatewayMultiplexing() => Kestrel = static kestrel => kestrel.Limits.Http2.MaxStreamsPerConnection = GatewayStreamsPerConnection;

    /// <summary>Connection middleware added before TLS (it sees every connection, also those whose handshake fails).</summary>
    public Action<ListenOptions>? BeforeTls { get; set; }

    /// <summary>Connection middleware added after TLS (it sees connections whose handshake succeeded).</summary>
    public Action<ListenOptions>? AfterTls { get; set; }

    /// <summary>How long a TLS handshake may take. Default 10 seconds (Kestrel's default).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Counts connections around the TLS handshake (sets <see cref="BeforeTls"/> and <see cref="AfterTls"/>): a connection that
    /// never reaches the middleware after TLS failed its handshake (<paramref name="failed"/>); one that does is an established
    /// connection (<paramref name="established"/>, then <paramref name="ended"/> when it closes).
    /// </summary>
    public void CountHandshakes(Action failed, Action? established = null, Action? ended = null)
    {
        ArgumentNullException.ThrowIfNull(failed);
        BeforeTls = listen => listen.Use(next => async connection =>
        {
            try
            {
                await next(connection).ConfigureAwait(false);
            }
            finally
            {
                if (connection.Features.Get<TlsEstablished>() is null)
                {
                    failed();
                }
            }
        });
        AfterTls = listen => listen.Use(next => async connection =>
        {
            connection.Features.Set(TlsEstablished.Instance);
            established?.Invoke();
            try
            {
                await next(connection).ConfigureAwait(false);
            }
            finally
            {
                ended?.Invoke();
            }
        });
    }

    /// <summary>Marks a connection whose TLS handshake completed.</summary>
    private sealed class TlsEstablished
    {
        public static readonly TlsEstablished Instance = new();
    }
}
