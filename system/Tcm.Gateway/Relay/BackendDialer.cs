using System.Net;
using Tcm.Protocol;

namespace Tcm.Gateway.Relay;

/// <summary>
/// Dials backends, honouring <see cref="GatewayBackendOptions.ConnectTo"/>: the gateway relays to the address agents name
/// (and validates TLS against that host), but opens its socket to where the backend really listens when the two differ.
/// </summary>
internal static class BackendDialer
{
    /// <summary>A connect callback for <see cref="SocketsHttpHandler.ConnectCallback"/>, or null when no backend needs one.</summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? Create(IEnumerable<GatewayBackendOptions> backends)
    {
        var overrides = new Dictionary<string, DnsEndPoint>(StringComparer.OrdinalIgnoreCase);
        foreach (var backend in backends)
        {
            if (!string.IsNullOrWhiteSpace(backend.ConnectTo)
                && RelayAddress.TryNormalizeHostAndPort(backend.Address, out var address, out _)
                && RelayAddress.TryNormalizeHostAndPort(backend.ConnectTo, out var connectTo, out _))
            {
                var colon = connectTo!.LastIndexOf(':');
                overrides[address!] = new DnsEndPoint(connectTo[..colon].Trim('[', ']'), int.Parse(connectTo[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        if (overrides.Count == 0)
        {
            return null;
        }

        return async (context, ct) =>
        {
            var key = $"{context.DnsEndPoint.Host}:{context.DnsEndPoint.Port}";
            var target = overrides.GetValueOrDefault(key) ?? context.DnsEndPoint;
            return await TcpDial.ConnectAsync(target, ct).ConfigureAwait(false);
        };
    }
}
