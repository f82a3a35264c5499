using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Tcm.Protocol;

/// <summary>
/// Trust in one TCM certificate authority alone, as the agent trusts the CA of its install package: a certificate counts when it
/// chains to that CA (custom root trust: no system roots, no revocation check). One check for the agent, the servers, the lab and
/// the tests.
/// </summary>
public static class ServerTrust
{
    /// <summary>Whether <paramref name="certificate"/> chains to <paramref name="ca"/> alone, now (no usage required).</summary>
    public static bool ChainsTo(X509Certificate certificate, X509Certificate2 ca)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(ca);
        if (certificate is not X509Certificate2 typed)
        {
            using var loaded = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return ChainsTo(loaded, ca);
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        try
        {
            return chain.Build(typed) && chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(ca.RawDataMemory.Span);
        }
        finally
        {
            // The chain's elements are copies of their own: the caller's certificate and the CA stay usable.
            foreach (var element in chain.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }
    }

    /// <summary>
    /// Validates a server's TLS certificate (as a <see cref="RemoteCertificateValidationCallback"/> would): the name and the
    /// other usual checks, and the chain against <paramref name="ca"/> alone. The machine does not know the CA, so a chain error
    /// from the system's own check is expected and left to this one.
    /// </summary>
    public static bool ValidateServer(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 ca) =>
        certificate is not null && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None && ChainsTo(certificate, ca);
}
