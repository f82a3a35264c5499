using System.Net;
using Microsoft.Extensions.Logging;
using Tcm.Protocol;

namespace Tcm.Agent.Network;

/// <summary>
/// The agent's network as its profile's proxy settings make it: each connection goes through the proxy as a <c>CONNECT</c> tunnel
/// (<see cref="ProxyTunnel"/>) unless the settings say none or the destination is in the bypass list, and directly after a proxy
/// failure only when the profile allows it. Every socket, the proxy's included, still comes from the inner <see cref="INetwork"/>.
/// Remembers, per destination, whether the last connection went through the proxy and why the proxy last failed, for the Network Status.
/// </summary>
internal sealed partial class ProxiedNetwork : INetwork
{
    private readonly INetwork _inner;
    private readonly Func<ProxySettings?> _settings;
    private readonly IWebProxy? _systemProxy;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    // Only an agent with a proxy holds one: most agents never allocate it.
    private Dictionary<string, ProxyUse>? _uses;

    /// <param name="inner">Where every socket comes from.</param>
    /// <param name="settings">The proxy settings in force now (the policy's, else the install package's); read at every connect.</param>
    /// <param name="systemProxy">The machine's proxy for <see cref="ProxyMode.System"/> (<see cref="HttpClient.DefaultProxy"/>).</param>
    /// <param name="logger">The agent's log.</param>
    public ProxiedNetwork(INetwork inner, Func<ProxySettings?> settings, IWebProxy? systemProxy, ILogger logger)
    {
        _inner = inner;
        _settings = settings;
        _systemProxy = systemProxy;
        _logger = logger;
    }

    /// <inheritdoc/>
    public event EventHandler? AdaptersChanged
    {
        add => _inner.AdaptersChanged += value;
        remove => _inner.AdaptersChanged -= value;
    }

    /// <inheritdoc/>
    public IReadOnlyList<NetworkAdapter> GetAdapters() => _inner.GetAdapters();

    /// <inheritdoc/>
    public async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, TrafficPurpose purpose, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (Resolve(_settings(), endpoint) is not { } proxy)
        {
            return await _inner.ConnectAsync(endpoint, purpose, cancellationToken).ConfigureAwait(false);
        }

        var destination = $"{endpoint.Host}:{endpoint.Port}";
        try
        {
            var tunnel = await ProxyTunnel.OpenAsync(_inner, proxy, endpoint, purpose, cancellationToken).ConfigureAwait(false);
            Record(destination, new ProxyUse(proxy.HostAndPort, null));
            return tunnel;
        }
        catch (ProxyFailedException ex)
        {
            Record(destination, new ProxyUse(null, ex.Message));
            Log.ProxyFailed(_logger, destination, ex.Message, proxy.AllowDirect ? "trying directly (the profile allows it)" : "not trying directly (the profile does not allow it)");
            if (!proxy.AllowDirect)
            {
                throw;
            }
        }

        var direct = await _inner.ConnectAsync(endpoint, purpose, cancellationToken).ConfigureAwait(false);
        WentDirect?.Invoke(destination);
        return direct;
    }

    /// <summary>
    /// Called with the destination (<c>host:port</c>) after a connection went directly because the proxy failed and the profile allows
    /// that: the agent watches for the proxy's return (it prefers the proxy).
    /// </summary>
    public Action<string>? WentDirect { get; set; }

    /// <summary>
    /// Whether the proxy in force for <paramref name="destination"/> (<c>host:port</c>) opens a tunnel to it now (the tunnel is closed at
    /// once). True also when no proxy is in force for it any more: there is nothing to wait for.
    /// </summary>
    public async Task<bool> ProxyAnswersAsync(string destination, CancellationToken ct)
    {
        var at = destination.LastIndexOf(':');
        var endpoint = new DnsEndPoint(destination[..at].Trim('[', ']'), int.Parse(destination[(at + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        if (Resolve(_settings(), endpoint) is not { } proxy)
        {
            return true;
        }

        try
        {
            var tunnel = await ProxyTunnel.OpenAsync(_inner, proxy, endpoint, TrafficPurpose.Probe, ct).ConfigureAwait(false);
            await tunnel.DisposeAsync().ConfigureAwait(false);
            return true;
        }
        catch (ProxyFailedException ex)
        {
            Log.ProxyStillFailing(_logger, destination, ex.Message);
            return false;
        }
    }

    /// <summary>
    /// How the last connection to <paramref name="hostAndPort"/> went under the settings in force now: the proxy it went through
    /// (null: directly) and the proxy's last failure (null since a tunnel opened).
    /// </summary>
    public ProxyUse UseFor(string? hostAndPort)
    {
        if (hostAndPort is null || _settings() is not { Mode: not ProxyMode.None })
        {
            return default;
        }

        lock (_gate)
        {
            return _uses?.GetValueOrDefault(hostAndPort) ?? default;
        }
    }

    /// <summary>The proxy for <paramref name="destination"/> under <paramref name="settings"/>, or null to connect directly.</summary>
    internal ProxyTarget? Resolve(ProxySettings? settings, DnsEndPoint destination)
    {
        if (settings is null || settings.Mode == ProxyMode.None || Bypassed(settings.Bypass, destination.Host, destination.Port))
        {
            return null;
        }

        var credentials = string.IsNullOrEmpty(settings.UserName) ? null : new NetworkCredential(settings.UserName, settings.Password ?? "");
        if (settings.Mode == ProxyMode.Explicit)
        {
            return ProxySettings.TryParseAddress(settings.Address, out var host, out var port, out _)
                ? new ProxyTarget(host, port, credentials, settings.AllowDirect)
                : null;
        }

        // The system's proxy for an https:// address to the destination; one that answers with the address itself bypasses it.
        var address = new UriBuilder(Uri.UriSchemeHttps, destination.Host, destination.Port).Uri;
        if (_systemProxy is null || _systemProxy.IsBypassed(address) || _systemProxy.GetProxy(address) is not { } system || system == address)
        {
            return null;
        }

        credentials ??= _systemProxy.Credentials?.GetCredential(system, "Basic");
        return new ProxyTarget(system.IdnHost, system.Port, credentials, settings.AllowDirect);
    }

    /// <summary>Whether the bypass list names the host (or <c>host:port</c>); <c>&lt;local&gt;</c> is every name without a dot.</summary>
    internal static bool Bypassed(IReadOnlyList<string>? bypass, string host, int port)
    {
        foreach (var entry in bypass ?? [])
        {
            var pattern = entry.Trim();
            if (string.Equals(pattern, "<local>", StringComparison.OrdinalIgnoreCase)
                ? !host.Contains('.', StringComparison.Ordinal) && !host.Contains(':', StringComparison.Ordinal)
                : Wildcard.IsMatch(host, pattern) || Wildcard.IsMatch($"{host}:{port}", pattern))
            {
                return true;
            }
        }

        return false;
    }

    private void Record(string destination, ProxyUse use)
    {
        lock (_gate)
        {
            (_uses ??= new Dictionary<string, ProxyUse>(2, StringComparer.OrdinalIgnoreCase))[destination] = use;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1150, LogLevel.Warning, "Proxy failed for '{Destination}': {Reason}; {Then}", EventName = "ProxyFailed")]
        public static partial void ProxyFailed(ILogger logger, string destination, string reason, string then);

        [LoggerMessage(1152, LogLevel.Debug, "Proxy for '{Destination}' still fails: {Reason}", EventName = "ProxyStillFailing")]
        public static partial void ProxyStillFailing(ILogger logger, string destination, string reason);
    }
}

/// <summary>How the last connection to one destination went: through <paramref name="Via"/> (null: directly), and the proxy's last failure.</summary>
internal readonly record struct ProxyUse(string? Via, string? Problem);
