using System.Security.Cryptography.X509Certificates;
using Tcm.Hosting.Registration;

namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>A site server's registration, as a gateway or a Task Server makes it at its first start (real Kestrel and TLS).</summary>
internal static class TestSiteServer
{
    /// <summary>Creates site server <paramref name="name"/> of <paramref name="kind"/> on <paramref name="creator"/>, registers it and returns its certificate with its key.</summary>
    public static async Task<X509Certificate2> RegisterAsync(NotificationServerHost creator, string name, SiteServerKind kind, string unit)
    {
        var created = await creator.CreateSiteServerAsync(name, kind);
        var (key, csr) = SiteServerRegistrar.NewKey($"CN={name}, OU={unit}");
        using (key)
        {
            using var handler = creator.CreateHandler();
            var response = await SiteServerRegistrar.RegisterAsync(handler, new Uri(creator.BaseUrl), new SiteServerRegisterRequest
            {
                RegistrationToken = created.RegistrationToken,
                HostNames = [$"{name}.example"],
                Address = $"{name}.example:443",
                CertificateSigningRequestPem = csr,
            }, unit, TimeSpan.FromSeconds(30), TimeProvider.System, CancellationToken.None);
            return SiteServerRegistrar.WithKey(response.CertificatePem, key);
        }
    }
}
