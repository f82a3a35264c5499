using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Tcm.Protocol.Admin;

namespace Tcm.Agent.Status;

/// <summary>
/// A server certificate as the Network Status' "View certificate" shows it, and why the agent rejected one. One summary per distinct
/// certificate (and verdict) in the process: thousands of simulated agents that see the same server share it.
/// </summary>
internal static class CertificateSummary
{
    private static readonly BoundedCache<string, CertificateInfo> _seen = new(256, StringComparer.Ordinal);

    /// <summary>The summary of an accepted certificate.</summary>
    public static CertificateInfo Of(X509Certificate certificate) => Remember(certificate, null);

    /// <summary>
    /// The summary of a certificate the agent rejected, with why: no certificate, a name that does not match the address dialled,
    /// outside its validity, or not issued under the CA the agent trusts (<paramref name="ca"/>).
    /// </summary>
    public static CertificateInfo? Rejected(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 ca, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(ca);
        if (certificate is null)
        {
            return null;
        }

        var (notBefore, notAfter) = Validity(certificate);
        var why = (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 ? "its name does not match the host name the agent dialled"
            : now > notAfter ? $"it expired on {notAfter:u}"
            : now < notBefore ? $"it is not valid before {notBefore:u}"
            : $"it is not issued under the CA the agent trusts ('{ca.Subject}')";
        return Remember(certificate, why);
    }

    /// <summary>Why a TLS handshake failed, in words, with the rejected certificate when there was one.</summary>
    public static string DescribeRejection(CertificateInfo? rejected) => rejected is null
        ? "the TLS handshake failed"
        : $"the server's certificate '{rejected.Subject}' (issuer '{rejected.Issuer}', thumbprint {rejected.Thumbprint}) was rejected: {rejected.ValidationError}";

    private static CertificateInfo Remember(X509Certificate certificate, string? validationError)
    {
        var thumbprint = certificate.GetCertHashString();
        var key = validationError is null ? thumbprint : $"{thumbprint}\n{validationError}";
        return _seen.GetOrAdd(key, static (_, state) =>
        {
            var (notBefore, notAfter) = Validity(state.certificate);
            return new CertificateInfo
            {
                Subject = state.certificate.Subject,
                Issuer = state.certificate.Issuer,
                NotBefore = notBefore,
                NotAfter = notAfter,
                Thumbprint = state.thumbprint,
                ValidationError = state.validationError,
            };
        }, (certificate, thumbprint, validationError));
    }

    private static (DateTimeOffset NotBefore, DateTimeOffset NotAfter) Validity(X509Certificate certificate)
    {
        if (certificate is X509Certificate2 typed)
        {
            return (new DateTimeOffset(typed.NotBefore.ToUniversalTime(), TimeSpan.Zero), new DateTimeOffset(typed.NotAfter.ToUniversalTime(), TimeSpan.Zero));
        }

        using var loaded = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return Validity(loaded);
    }
}
