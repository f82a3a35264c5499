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

    /// <summary>Connection middleware added before TLS (it sees every connection, also those whose handshake fails).</summary>
    public Action<ListenOptions>? BeforeTls { get; set; }

    /// <summary>Connection middleware added after TLS (it sees connections whose handshake succeeded).</summary>
    public Action<ListenOptions>? AfterTls { get; set; }

    /// <summary>How long a TLS handshake may take. Default 10 seconds (Kestrel's default).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
