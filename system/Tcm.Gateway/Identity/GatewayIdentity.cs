using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Tcm.Protocol;

namespace Tcm.Gateway.Identity;

/// <summary>
/// The gateway's certificates: one site-server certificate per Notification Server backend (signed by that NS's CA, subject
/// <c>CN={name}, OU=gateway</c>), kept in <c>&lt;data&gt;/identity/{backend}.pfx</c> with the CA in <c>{backend}.ca.pem</c>,
/// obtained once by registering with the NS (token + CSR, <see cref="SiteServerPaths.Register"/>). The first NS's certificate is
/// also the gateway's TLS server certificate. <see cref="TrustedCas"/> are the CAs whose agents the gateway accepts.
/// </summary>
internal sealed partial class GatewayIdentity : IDisposable
{
    internal const string FolderName = "identity";

    private GatewayIdentity(IReadOnlyDictionary<string, SiteServerIdentity> byNotificationServer, X509Certificate2Collection trustedCas, SiteServerIdentity primary)
    {
        ByNotificationServer = byNotificationServer;
        TrustedCas = trustedCas;
        Primary = primary;
    }

    /// <summary>The identity to present to each NS (and its Task Servers), by NS backend name.</summary>
    public IReadOnlyDictionary<string, SiteServerIdentity> ByNotificationServer { get; }

    /// <summary>The first NS's identity: its certificate is the gateway's TLS server certificate.</summary>
    public SiteServerIdentity Primary { get; }

    /// <summary>Every configured CA: agents with a certificate from any of them are accepted.</summary>
    public X509Certificate2Collection TrustedCas { get; }

    /// <summary>The path of the certificate file of NS backend <paramref name="backendName"/>.</summary>
    public static string CertificatePath(string dataDirectory, string backendName) => Path.Combine(dataDirectory, FolderName, backendName + ".pfx");

    /// <summary>The path of the CA file of NS backend <paramref name="backendName"/>.</summary>
    public static string CaPath(string dataDirectory, string backendName) => Path.Combine(dataDirectory, FolderName, backendName + ".ca.pem");

    /// <summary>
    /// Loads every NS identity from the data folder, registering with an NS whose identity is missing and whose
    /// <see cref="GatewayBackendOptions.RegistrationToken"/> is set. Throws <see cref="InvalidOperationException"/> with a message
    /// that says what to do when an identity is missing and cannot be obtained.
    /// </summary>
    public static async Task<GatewayIdentity> LoadOrRegisterAsync(GatewayOptions options, ILogger logger, CancellationToken ct)
    {
        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(Path.Combine(dataDirectory, FolderName));
        var identities = new Dictionary<string, SiteServerIdentity>(StringComparer.OrdinalIgnoreCase);
        var trusted = new X509Certificate2Collection();
        SiteServerIdentity? primary = null;
        foreach (var backend in options.Backends.Where(b => b.Kind == BackendKind.NotificationServer))
        {
            var certificatePath = CertificatePath(dataDirectory, backend.Name);
            var caPath = CaPath(dataDirectory, backend.Name);
            if (!File.Exists(certificatePath))
            {
                if (string.IsNullOrWhiteSpace(backend.RegistrationToken))
                {
                    throw new InvalidOperationException(
                        $"The gateway has no certificate for Notification Server '{backend.Name}' ({backend.Address}): create a site-server token on that NS " +
                        $"(POST {TcmPaths.Admin}/site-servers with kind 'gateway') and set Gateway:Backends:{backend.Name}:RegistrationToken, " +
                        $"or place its certificate in '{certificatePath}' and its CA in '{caPath}'.");
                }

                await RegisterAsync(options, backend, certificatePath, caPath, logger, ct).ConfigureAwait(false);
            }

            var certificate = X509CertificateLoader.LoadPkcs12FromFile(certificatePath, password: null);
            if (!certificate.HasPrivateKey)
            {
                throw new InvalidOperationException($"The gateway certificate '{certificatePath}' has no private key; delete it and register again.");
            }

            var caFile = backend.CaCertificateFile ?? caPath;
            if (!File.Exists(caFile))
            {
                throw new InvalidOperationException($"The CA of Notification Server '{backend.Name}' is missing: '{caFile}'.");
            }

            var ca = X509Certificate2.CreateFromPem(File.ReadAllText(caFile));
            trusted.Add(ca);
            var identity = new SiteServerIdentity(backend.Name, certificate, ca);
            identities[backend.Name] = identity;
            primary ??= identity;
            Log.IdentityLoaded(logger, backend.Name, certificate.Subject, certificate.NotAfter, ca.Subject);
        }

        foreach (var file in options.CaCertificateFiles.Concat(options.Backends.Where(b => b.Kind == BackendKind.TaskServer && b.CaCertificateFile is not null).Select(b => b.CaCertificateFile!)))
        {
            trusted.Add(X509Certificate2.CreateFromPem(File.ReadAllText(file)));
        }

        if (primary is null)
        {
            throw new InvalidOperationException("The gateway needs at least one Notification Server backend (Gateway:Backends with Kind NotificationServer).");
        }

        return new GatewayIdentity(identities, trusted, primary);
    }

    /// <summary>
    /// Registers with an NS as a site server of kind gateway: a new ECDSA P-256 key, a CSR, the token; stores the signed
    /// certificate (with the key, as PKCS#12, owner-only) and the NS CA. The NS's TLS certificate is accepted for this one call and
    /// then must chain to the CA it returned (trust on first use, like an agent's install package, but checked afterwards).
    /// </summary>
    private static async Task RegisterAsync(GatewayOptions options, GatewayBackendOptions backend, string certificatePath, string caPath, ILogger logger, CancellationToken ct)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest($"CN={options.Name}, OU=gateway", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        X509Certificate2? presented = null;
        using var handler = new SocketsHttpHandler { ConnectCallback = Relay.BackendDialer.Create([backend]) };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            presented = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return certificate is not null;
        };
        using var client = new HttpClient(handler) { BaseAddress = new Uri($"https://{backend.Address}"), Timeout = options.BackendResponseTimeout };
        var request = new SiteServerRegisterRequest
        {
            RegistrationToken = backend.RegistrationToken!,
            HostNames = [.. new[] { options.PublicHostName, "localhost", "127.0.0.1", "::1" }.Distinct(StringComparer.OrdinalIgnoreCase)],
            Address = $"{options.PublicHostName}:{options.Port}",
            CertificateSigningRequestPem = csr,
        };
        using var response = await client.PostAsJsonAsync(SiteServerPaths.Register, request, ProtocolJsonContext.Default.SiteServerRegisterRequest, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            throw new InvalidOperationException($"Registering the gateway with Notification Server '{backend.Name}' ({backend.Address}) failed: {(int)response.StatusCode} {body}");
        }

        var registered = await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.SiteServerRegisterResponse, ct).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Notification Server '{backend.Name}' answered the registration with an empty body.");
        using var ca = X509Certificate2.CreateFromPem(registered.CaCertificatePem);
        using (presented)
        {
            if (presented is null || !Chains(presented, ca))
            {
                throw new InvalidOperationException($"Notification Server '{backend.Name}' ({backend.Address}) presented a TLS certificate that its own CA did not issue; registration abandoned.");
            }
        }

        using var certificate = X509Certificate2.CreateFromPem(registered.CertificatePem);
        using var withKey = certificate.CopyWithPrivateKey(key);
        WritePrivateFile(certificatePath, withKey.Export(X509ContentType.Pkcs12));
        await File.WriteAllTextAsync(caPath, registered.CaCertificatePem, ct).ConfigureAwait(false);
        Log.Registered(logger, backend.Name, backend.Address, registered.Id, certificate.Subject);
    }

    /// <summary>Whether <paramref name="certificate"/> chains to <paramref name="ca"/> alone (no revocation check).</summary>
    internal static bool Chains(X509Certificate2 certificate, X509Certificate2 ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        try
        {
            return chain.Build(certificate) && chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(ca.RawDataMemory.Span);
        }
        finally
        {
            foreach (var element in chain.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }
    }

    /// <summary>Validates a backend's TLS certificate: the usual checks, the chain against <paramref name="ca"/> alone.</summary>
    internal static bool ValidateBackendCertificate(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 ca)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var typed = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return Chains(typed, ca);
    }

    /// <summary>Writes a file readable by its owner only (mode 600 on Unix), replacing it atomically.</summary>
    internal static void WritePrivateFile(string path, ReadOnlySpan<byte> content)
    {
        var temp = path + ".tmp";
        using (var stream = OperatingSystem.IsWindows()
            ? new FileStream(temp, FileMode.Create, FileAccess.Write)
            : new FileStream(temp, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
        {
            stream.Write(content);
        }

        File.Move(temp, path, overwrite: true);
    }

    public void Dispose()
    {
        foreach (var identity in ByNotificationServer.Values)
        {
            identity.Certificate.Dispose();
            identity.Ca.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Gateway identity for Notification Server '{Backend}': {Subject}, valid until {NotAfter:u}, CA {Ca}")]
        public static partial void IdentityLoaded(ILogger logger, string backend, string subject, DateTime notAfter, string ca);

        [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "Registered the gateway with Notification Server '{Backend}' at {Address} as site server {Id}: {Subject}")]
        public static partial void Registered(ILogger logger, string backend, string address, string id, string subject);
    }
}

/// <summary>A certificate the gateway presents to one NS (and its Task Servers), and that NS's CA.</summary>
internal sealed record SiteServerIdentity(string NotificationServer, X509Certificate2 Certificate, X509Certificate2 Ca);
