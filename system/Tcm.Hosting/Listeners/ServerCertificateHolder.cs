using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Tcm.Hosting.Listeners;

/// <summary>
/// The TLS server certificate of the listeners, set before Kestrel accepts its first connection (by the server's own CA at
/// configuration, or by site-server registration in <c>StartingAsync</c>). Each handshake reads it here, so a certificate
/// obtained after Kestrel was configured is still the one served; the certificate context (chain) is built once per set.
/// </summary>
public sealed class ServerCertificateHolder
{
    private volatile SslStreamCertificateContext? _context;
    private volatile X509Certificate2? _certificate;

    /// <summary>The certificate served, or null before one was set.</summary>
    public X509Certificate2? Certificate => _certificate;

    /// <summary>The context handshakes use; throws when no certificate was set yet.</summary>
    public SslStreamCertificateContext Context =>
        _context ?? throw new InvalidOperationException("The server has no TLS certificate yet: it is set before the server starts listening.");

    /// <summary>Serves <paramref name="certificate"/> (with its private key) from the next handshake on.</summary>
    public void Set(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException($"The server certificate '{certificate.Subject}' has no private key.", nameof(certificate));
        }

        _context = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
        _certificate = certificate;
    }
}
