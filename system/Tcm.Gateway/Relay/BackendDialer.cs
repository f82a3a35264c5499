using System.Net;
using System.Net.Sockets;
using Tcm.Protocol;

namespace Tcm.Gateway.Relay;

/// <summary>
/// Dials backends, honouring <see cref="GatewayBackendOptions.ConnectTo"/> and <see cref="GatewayBackendOptions.Destinations"/>: the
/// gateway relays to the address agents name (and validates TLS against that host), but opens its socket to where the backend really
/// listens when the two differ; a backend served by several Notification Server nodes is dialled at each in turn until one accepts.
/// </summary>
internal static class BackendDialer
{
    /// <summary>A connect callback for <see cref="SocketsHttpHandler.ConnectCallback"/>, or null when no backend needs one.</summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? Create(IEnumerable<GatewayBackendOptions> backends)
    {
        var overrides = new Dictionary<string, Destinations>(StringComparer.OrdinalIgnoreCase);
        foreach (var backend in backends)
        {
            if (!RelayAddress.TryNormalizeHostAndPort(backend.Address, out var address, out _))
            {
                continue;
            }

            var targets = (backend.Destinations.Count > 0 ? backend.Destinations : string.IsNullOrWhiteSpace(backend.ConnectTo) ? [] : [backend.ConnectTo])
                .Select(static text => RelayAddress.TryNormalizeHostAndPort(text, out var normalized, out _) ? EndPoint(normalized!) : null)
                .OfType<DnsEndPoint>()
                .ToArray();
            if (targets.Length > 0)
            {
                overrides[address!] = new Destinations(targets);
            }
        }

        if (overrides.Count == 0)
        {
            return null;
        }

        return async (context, ct) =>
        {
            var key = $"{context.DnsEndPoint.Host}:{context.DnsEndPoint.Port}";
            return overrides.TryGetValue(key, out var destinations)
                ? await destinations.DialAsync(ct).ConfigureAwait(false)
                : await TcpDial.ConnectAsync(context.DnsEndPoint, ct).ConfigureAwait(false);
        };
    }

    private static DnsEndPoint EndPoint(string hostAndPort)
    {
        var colon = hostAndPort.LastIndexOf(':');
        return new DnsEndPoint(hostAndPort[..colon].Trim('[', ']'), int.Parse(hostAndPort[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Where one backend listens: one place, or several nodes, tried from the one that last accepted.</summary>
    private sealed class Destinations(DnsEndPoint[] targets)
    {
        private int _preferred;

        public async ValueTask<Stream> DialAsync(CancellationToken ct)
        {
            var first = Volatile.Read(ref _preferred);
            for (var i = 0; ; i++)
            {
                var index = (first + i) % targets.Length;
                try
                {
                    var stream = await TcpDial.ConnectAsync(targets[index], ct).ConfigureAwait(false);
                    Volatile.Write(ref _preferred, index);
                    return stream;
                }
                catch (SocketException) when (i < targets.Length - 1 && !ct.IsCancellationRequested)
                {
                    // why: this node does not accept connections (stopped, or its machine is gone); the next one may.
                }
            }
        }
    }
}
