using System.Collections.Frozen;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using Microsoft.Extensions.Options;
using Tcm.Gateway.Identity;
using Tcm.Hosting.Certificates;

namespace Tcm.Gateway.Relay;

/// <summary>
/// The configured backends, by normalised <c>host:port</c>: the only addresses the gateway relays to. Each backend has the shared
/// upstream handler of its identity: one <see cref="SocketsHttpHandler"/> per NS certificate, HTTP/2 with
/// <see cref="SocketsHttpHandler.EnableMultipleHttp2Connections"/>, so thousands of agent channels share a few connections.
/// </summary>
internal sealed class BackendRegistry : IDisposable
{
    private readonly FrozenDictionary<string, Backend> _byAddress;
    private readonly List<HttpMessageInvoker> _invokers = [];

    public BackendRegistry(IOptions<GatewayOptions> options, GatewayIdentity identity)
    {
        var settings = options.Value;
        var invokers = new Dictionary<string, HttpMessageInvoker>(StringComparer.OrdinalIgnoreCase);
        var backends = new List<Backend>();
        foreach (var configured in settings.Backends)
        {
            var identityName = configured.Kind == BackendKind.NotificationServer ? configured.Name : configured.Identity ?? identity.Primary.NotificationServer;
            if (!invokers.TryGetValue(identityName, out var invoker))
            {
                invoker = new HttpMessageInvoker(CreateHandler(settings, identity.ByNotificationServer[identityName], RecordUpstreamTls), disposeHandler: true);
                invokers[identityName] = invoker;
                _invokers.Add(invoker);
            }

            RelayAddress.TryNormalizeHostAndPort(configured.Address, out var address, out _);
            backends.Add(new Backend(configured.Name, address!, configured.Kind, new Uri($"https://{address}"), invoker));
        }

        All = backends;
        _byAddress = backends.ToFrozenDictionary(b => b.Address, StringComparer.Ordinal);
        Configured = string.Join(", ", backends.Select(b => b.Address));
    }

    /// <summary>Every backend, in configuration order.</summary>
    public IReadOnlyList<Backend> All { get; }

    /// <summary>The configured addresses as one string, for refusals: <c>ns1.corp:4443, ts1.corp:4726</c>.</summary>
    public string Configured { get; }

    public bool TryGet(string normalizedAddress, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Backend? backend) =>
        _byAddress.TryGetValue(normalizedAddress, out backend);

    /// <summary>Notes the TLS of a new upstream connection on its backend, which reports it to agents (<c>X-Tcm-Backend-Tls</c>).</summary>
    private ValueTask<Stream> RecordUpstreamTls(SocketsHttpPlaintextStreamFilterContext context, CancellationToken ct)
    {
        if (context.PlaintextStream is SslStream ssl
            && context.InitialRequestMessage.RequestUri is { } uri
            && RelayAddress.TryNormalizeHostAndPort($"{uri.Host}:{uri.Port}", out var address, out _)
            && _byAddress.TryGetValue(address, out var backend))
        {
            backend.UpstreamTls = $"{FormatProtocol(ssl.SslProtocol)}; {ssl.NegotiatedCipherSuite}";
        }

        return ValueTask.FromResult(context.PlaintextStream);
    }

    private static string FormatProtocol(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls12 => "TLS 1.2",
        SslProtocols.Tls13 => "TLS 1.3",
        _ => protocol.ToString(),
    };

    private static SocketsHttpHandler CreateHandler(GatewayOptions options, SiteServerIdentity identity,
        Func<SocketsHttpPlaintextStreamFilterContext, CancellationToken, ValueTask<Stream>> plaintextFilter)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = options.BackendConnectTimeout,
            PooledConnectionIdleTimeout = options.KeepAliveTimeout,
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            ActivityHeadersPropagator = null,
            PlaintextStreamFilter = plaintextFilter,
        };
        GatewayKeepAlive.Apply(options, handler);
        handler.ConnectCallback = BackendDialer.Create(options.Backends);
        handler.SslOptions.EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
        handler.SslOptions.ClientCertificates = [identity.Certificate];
        handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => identity.Certificate;
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => CertificateTrust.ValidateServer(certificate, errors, identity.Ca);
        return handler;
    }

    public void Dispose()
    {
        foreach (var invoker in _invokers)
        {
            invoker.Dispose();
        }
    }
}

/// <summary>A configured backend and its live counters.</summary>
internal sealed class Backend(string name, string address, BackendKind kind, Uri baseUri, HttpMessageInvoker invoker)
{
    private long _openTunnels;
    private long _totalTunnels;
    private long _requests;

    public string Name { get; } = name;

    /// <summary>Normalised <c>host:port</c>.</summary>
    public string Address { get; } = address;

    public BackendKind Kind { get; } = kind;

    public Uri BaseUri { get; } = baseUri;

    /// <summary>The shared upstream handler of this backend's identity.</summary>
    public HttpMessageInvoker Invoker { get; } = invoker;

    /// <summary>The TLS of the gateway's last connection to this backend (<c>protocol; cipher suite</c>), once it made one.</summary>
    public string? UpstreamTls { get => Volatile.Read(ref field); set => Volatile.Write(ref field, value); }

    public long OpenTunnels => Interlocked.Read(ref _openTunnels);

    public long TotalTunnels => Interlocked.Read(ref _totalTunnels);

    public long Requests => Interlocked.Read(ref _requests);

    public void TunnelOpened()
    {
        Interlocked.Increment(ref _openTunnels);
        Interlocked.Increment(ref _totalTunnels);
    }

    public void TunnelClosed() => Interlocked.Decrement(ref _openTunnels);

    public void RequestRelayed() => Interlocked.Increment(ref _requests);
}
