using System.Security.Cryptography.X509Certificates;
using Tcm.Gateway.Identity;
using Tcm.Hosting.Admin;
using Tcm.Gateway.Relay;
using Tcm.Protocol;

namespace Tcm.Gateway;

/// <summary>
/// What a host, the simulator's lab and tests need to know about a running gateway: where it listens, its admin key, its
/// certificate, its backends and each backend's relay base URL. Resolve it from <c>app.Services</c>.
/// </summary>
public sealed class GatewayInfo
{
    private readonly ServerAddresses _addresses;
    private readonly BackendRegistry _backends;

    internal GatewayInfo(ServerAddresses addresses, GatewayIdentity identity, BackendRegistry backends, string name, AdminKey adminKey)
    {
        _addresses = addresses;
        _backends = backends;
        Name = name;
        AdminApiKey = adminKey.Value;
        ServerCertificate = X509CertificateLoader.LoadCertificate(identity.Primary.Certificate.RawData);
    }

    /// <summary>The gateway's name (refusals, logs, <c>X-Tcm-Via</c>).</summary>
    public string Name { get; }

    /// <summary>The bound URL of the agent listener, e.g. <c>https://127.0.0.1:8443</c>. Available after the application started.</summary>
    public string BaseUrl => _addresses.BaseUrl;

    /// <summary><c>host:port</c> of <see cref="BaseUrl"/>.</summary>
    public string HostAndPort => new Uri(BaseUrl).Authority;

    /// <summary>The admin key of the status endpoints and the approval API: from the options, or generated into <c>&lt;data&gt;/admin.key</c>.</summary>
    public string AdminApiKey { get; }

    /// <summary>The gateway's TLS server certificate (public part): the site-server certificate of its first Notification Server.</summary>
    public X509Certificate2 ServerCertificate { get; }

    /// <summary>The configured backends: name, normalised <c>host:port</c>, kind.</summary>
    public IReadOnlyList<(string Name, string Address, BackendKind Kind)> Backends => [.. _backends.All.Select(b => (b.Name, b.Address, b.Kind))];

    /// <summary>The base URL an agent in CEM mode uses for a backend (by name or address): <c>https://{gateway}/relay/{host}:{port}</c>.</summary>
    public Uri RelayBase(string backendNameOrAddress)
    {
        var backend = _backends.All.FirstOrDefault(b => string.Equals(b.Name, backendNameOrAddress, StringComparison.OrdinalIgnoreCase)
            || string.Equals(b.Address, backendNameOrAddress, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"No backend '{backendNameOrAddress}' is configured on gateway '{Name}'.", nameof(backendNameOrAddress));
        return GatewayPaths.RelayBase(HostAndPort, backend.Address);
    }
}
