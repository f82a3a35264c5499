using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tcm.Protocol;

namespace Tcm.Hosting.Certificates;

/// <summary>
/// The certificate checks the servers share: a chain to one of a few CAs alone (no system roots, no revocation), the
/// clientAuth usage for agents and site servers, a server's TLS certificate against a known CA, and a certificate forwarded in
/// a header. Validity against the clock is left to the caller, so chain verdicts can be cached.
/// </summary>
public static class CertificateTrust
{
    /// <summary>The reason <see cref="ChainsTo(X509Certificate2, IEnumerable{X509Certificate2}, Oid?, out string)"/> gives for a chain that ends at a CA not asked for.</summary>
    public const string UntrustedRoot = "untrusted root";

    /// <summary>The clientAuth extended key usage.</summary>
    public static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    /// <summary>
    /// Whether <paramref name="certificate"/> chains to one of <paramref name="roots"/> (and to nothing else), with
    /// <paramref name="usage"/> when given. The chain is checked at the certificate's own start, so the answer does not change
    /// with time. <paramref name="reason"/> says why not: the chain's status, or <c>untrusted root</c>.
    /// </summary>
    public static bool ChainsTo(X509Certificate2 certificate, IEnumerable<X509Certificate2> roots, Oid? usage, out string reason)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(roots);
        var trusted = roots as IReadOnlyCollection<X509Certificate2> ?? [.. roots];
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        foreach (var root in trusted)
        {
            chain.ChainPolicy.CustomTrustStore.Add(root);
        }

        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (usage is not null)
        {
            chain.ChainPolicy.ApplicationPolicy.Add(usage);
        }

        // why: validity is checked on every use against the injected clock; a cached verdict is about the chain only.
        chain.ChainPolicy.VerificationTime = certificate.NotBefore.ToUniversalTime().AddSeconds(1);
        try
        {
            if (!chain.Build(certificate))
            {
                reason = string.Join(", ", chain.ChainStatus.Select(s => s.Status.ToString()));
                return false;
            }

            var top = chain.ChainElements[^1].Certificate;
            if (!trusted.Any(root => root.RawDataMemory.Span.SequenceEqual(top.RawDataMemory.Span)))
            {
                reason = UntrustedRoot;
                return false;
            }

            reason = "";
            return true;
        }
        finally
        {
            foreach (var element in chain.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }
    }

    /// <summary>Whether <paramref name="certificate"/> chains to <paramref name="ca"/> alone, now (no usage required).</summary>
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2 ca) => ServerTrust.ChainsTo(certificate, ca);

    /// <summary>
    /// Validates a server's TLS certificate (as a <see cref="RemoteCertificateValidationCallback"/> would): the name and the
    /// other usual checks, and the chain against <paramref name="ca"/> alone.
    /// </summary>
    public static bool ValidateServer(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 ca) => ServerTrust.ValidateServer(certificate, errors, ca);

    /// <summary>A certificate sent as base64 DER (the header a gateway forwards an agent's certificate in), or null when it is not one.</summary>
    public static X509Certificate2? FromBase64Der(string base64)
    {
        ArgumentNullException.ThrowIfNull(base64);
        var bytes = new byte[base64.Length * 3 / 4 + 3];
        if (!Convert.TryFromBase64String(base64.Trim(), bytes, out var length) || length == 0)
        {
            return null;
        }

        try
        {
            return X509CertificateLoader.LoadCertificate(bytes.AsSpan(0, length));
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>The SHA-256 hash of <paramref name="certificate"/> in upper-case hex: the key verdicts are cached by.</summary>
    public static string Hash(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.GetCertHashString(HashAlgorithmName.SHA256);
    }

    /// <summary>The certificate's validity as UTC instants.</summary>
    public static (DateTimeOffset NotBefore, DateTimeOffset NotAfter) Validity(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return (new DateTimeOffset(certificate.NotBefore.ToUniversalTime()), new DateTimeOffset(certificate.NotAfter.ToUniversalTime()));
    }
}
