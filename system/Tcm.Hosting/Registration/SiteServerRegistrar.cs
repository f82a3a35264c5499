using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tcm.Protocol;

namespace Tcm.Hosting.Registration;

/// <summary>
/// The client side of site-server registration (<see cref="SiteServerPaths.Register"/>), shared by the Task Server and the
/// gateway: a new ECDSA P-256 key and its CSR, the admin's one-time token, the Notification Server's signed certificate back.
/// </summary>
public static class SiteServerRegistrar
{
    /// <summary>A new ECDSA P-256 key and a certificate signing request for <paramref name="subject"/> (e.g. <c>CN=gw1, OU=gateway</c>).</summary>
    public static (ECDsa Key, string SigningRequestPem) NewKey(string subject)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (key, new CertificateRequest(subject, key, HashAlgorithmName.SHA256).CreateSigningRequestPem());
    }

    /// <summary>
    /// Posts <paramref name="request"/> to <paramref name="server"/>'s registration endpoint through <paramref name="handler"/> (which
    /// decides how the Notification Server's TLS certificate is trusted). Throws <see cref="InvalidOperationException"/> starting
    /// with <paramref name="what"/> when the server refuses or answers nothing, and <see cref="OperationCanceledException"/> after
    /// <paramref name="timeout"/> (measured on <paramref name="time"/>).
    /// </summary>
    public static async Task<SiteServerRegisterResponse> RegisterAsync(HttpMessageHandler handler, Uri server, SiteServerRegisterRequest request,
        string what, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(handler);
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        using var client = new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        using var response = await client.PostAsJsonAsync(new Uri(server, SiteServerPaths.Register), request, ProtocolJsonContext.Default.SiteServerRegisterRequest, linked.Token)
            .ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
            throw new InvalidOperationException($"{what}: HTTP {(int)response.StatusCode} {body}");
        }

        return await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.SiteServerRegisterResponse, linked.Token).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{what}: the Notification Server answered without a body.");
    }

    /// <summary>The signed certificate with its private key, loadable everywhere (a PKCS#12 round trip: SslStream on Windows cannot use an ephemeral key).</summary>
    public static X509Certificate2 WithKey(string certificatePem, ECDsa key)
    {
        using var certificate = X509Certificate2.CreateFromPem(certificatePem);
        using var withKey = certificate.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
