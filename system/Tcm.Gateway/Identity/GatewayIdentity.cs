using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Tcm.Hosting.Certificates;
using Tcm.Hosting.Data;
using Tcm.Hosting.Registration;
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
    public static async Task<GatewayIdentity> LoadOrRegisterAsync(GatewayOptions options, TimeProvider time, ILogger logger, CancellationToken ct)
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

                await RegisterAsync(options, backend, certificatePath, caPath, time, logger, ct).ConfigureAwait(false);
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
    private static async Task RegisterAsync(GatewayOptions options, GatewayBackendOptions backend, string certificatePath, string caPath, TimeProvider time, ILogger logger, CancellationToken ct)
    {
        var (key, csr) = SiteServerRegistrar.NewKey($"CN={options.Name}, OU=gateway");
        using (key)
        {
            X509Certificate2? presented = null;
            using var handler = new SocketsHttpHandler { ConnectCallback = Relay.BackendDialer.Create([backend]) };
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                presented = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                return certificate is not null;
            };
            var request = new SiteServerRegisterRequest
            {
                RegistrationToken = backend.RegistrationToken!,
                HostNames = [.. new[] { options.PublicHostName, "localhost", "127.0.0.1", "::1" }.Distinct(StringComparer.OrdinalIgnoreCase)],
                Address = $"{options.PublicHostName}:{options.Port}",
                CertificateSigningRequestPem = csr,
            };
            var registered = await SiteServerRegistrar.RegisterAsync(handler, new Uri($"https://{backend.Address}"), request,
                $"Registering the gateway with Notification Server '{backend.Name}' ({backend.Address}) failed", options.BackendResponseTimeout, time, ct).ConfigureAwait(false);
            using var ca = X509Certificate2.CreateFromPem(registered.CaCertificatePem);
            using (presented)
            {
                if (presented is null || !CertificateTrust.ChainsTo(presented, ca))
                {
                    throw new InvalidOperationException($"Notification Server '{backend.Name}' ({backend.Address}) presented a TLS certificate that its own CA did not issue; registration abandoned.");
                }
            }

            using var certificate = SiteServerRegistrar.WithKey(registered.CertificatePem, key);
            DataFolder.WritePrivateFile(certificatePath, certificate.Export(X509ContentType.Pkcs12));
            await File.WriteAllTextAsync(caPath, registered.CaCertificatePem, ct).ConfigureAwait(false);
            Log.Registered(logger, backend.Name, backend.Address, registered.Id, certificate.Subject);
        }
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
