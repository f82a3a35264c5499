using System.Security.Cryptography.X509Certificates;
using Tcm.Hosting.Admin;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Certificates;
using Tcm.NotificationServer.Policy;

namespace Tcm.NotificationServer;

/// <summary>
/// What a host, the simulator's lab and tests need to know about a running Notification Server: where it listens,
/// its admin key, its CA, and a way to build install packages. Resolve it from <c>app.Services</c>.
/// </summary>
public sealed class NotificationServerInfo
{
    private readonly ServerAddresses _addresses;
    private readonly CertificateAuthority _authority;
    private readonly AgentDirectory _directory;
    private readonly PolicyService _policy;
    private readonly TimeProvider _time;

    internal NotificationServerInfo(
        ServerAddresses addresses,
        CertificateAuthority authority,
        AgentDirectory directory,
        PolicyService policy,
        TimeProvider time,
        AdminKey adminKey)
    {
        _addresses = addresses;
        _authority = authority;
        _directory = directory;
        _policy = policy;
        _time = time;
        AdminApiKey = adminKey.Value;
    }

    /// <summary>The bound URL, e.g. <c>https://127.0.0.1:4443</c>. Available after the application started.</summary>
    public string BaseUrl => _addresses.BaseUrl;

    /// <summary>The URL given to agents in install packages: <c>https://{PublicHostName}:{port}</c>. Available after start.</summary>
    public string PublicUrl => _addresses.PublicBaseUrl;

    /// <summary>The admin API key: from the options, or generated into <c>&lt;data&gt;/admin.key</c> on first run.</summary>
    public string AdminApiKey { get; }

    /// <summary>The CA certificate as PEM: agents trust the server only through it.</summary>
    public string CaCertificatePem => _authority.CertificatePem;

    /// <summary>The CA certificate (without its private key).</summary>
    public X509Certificate2 CaCertificate => _authority.PublicCertificate;

    /// <summary>
    /// Issues a TLS server certificate from this Notification Server's CA for <paramref name="dnsNames"/> and
    /// <paramref name="addresses"/> (server authentication, one year), with its private key. For a server that runs beside
    /// the NS in its trust without registering as a site server, such as a lab's package server: agents and gateways that
    /// trust the NS's CA trust it. Site servers get theirs by registering (<c>POST /tcm/site/register</c>) instead.
    /// </summary>
    public X509Certificate2 IssueServerCertificate(IEnumerable<string> dnsNames, IEnumerable<System.Net.IPAddress> addresses)
    {
        ArgumentNullException.ThrowIfNull(dnsNames);
        ArgumentNullException.ThrowIfNull(addresses);
        return _authority.IssueServerCertificate(dnsNames, addresses);
    }

    /// <summary>
    /// Creates an install package with a new registration token, for the profile <paramref name="profileId"/> (or none).
    /// Throws <see cref="ArgumentException"/> when the profile does not exist. Call after the application started.
    /// </summary>
    public async Task<InstallPackage> CreateInstallPackageAsync(string? profileId = null, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        Protocol.Admin.CommunicationProfile? profile = null;
        if (profileId is not null)
        {
            profile = _policy.Configuration.Profiles.FirstOrDefault(p => p.Id == profileId)
                ?? throw new ArgumentException($"There is no communication profile '{profileId}'.", nameof(profileId));
        }

        var serverUrl = _addresses.PublicBaseUrl;
        var token = await _directory.CreatePackageAsync(profileId, _time.GetUtcNow(), ct).ConfigureAwait(false);
        return new InstallPackage
        {
            ServerUrl = serverUrl,
            RegistrationToken = token,
            CaCertificatePem = _authority.CertificatePem,
            ProfileId = profile?.Id,
            ProfileName = profile?.Name,
            Cem = profile?.Cem,
            Proxy = profile?.Proxy is { Mode: not ProxyMode.None } proxy ? proxy : null,
        };
    }
}
