using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Tcm.Hosting.Listeners;

/// <summary>
/// The HTTPS listeners every TCM server has: on <see cref="TcmServerOptions.ListenAddress"/> and each port, HTTP/1.1 and
/// HTTP/2, TLS 1.2/1.3 with the certificate of a <see cref="ServerCertificateHolder"/>, client certificates requested but not
/// checked in the handshake: the server checks them itself (cached per certificate) and answers with a reason, instead of
/// failing the handshake. Handshakes wait for a place in <see cref="ServerAdmission.Handshakes"/> before they start.
/// </summary>
internal static class HttpsListeners
{
    public static void Configure(KestrelServerOptions kestrel, TcmServerOptions options, ServerCertificateHolder certificate, TcmListenerSettings settings, ServerAdmission admission)
    {
        settings.Kestrel?.Invoke(kestrel);
        // why: SslStream builds the client's chain in every handshake even though the callback below ignores the result; against
        // the system store that build sorted the ~140 system roots per handshake (the connect storm's profile, docs/benchmarks.md,
        // issue 16). An empty custom trust store makes it a short walk; the server checks the certificate itself, cached.
        var clientChain = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        var handshake = new TlsHandshakeCallbackOptions
        {
            HandshakeTimeout = settings.HandshakeTimeout,
            OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = certificate.Context,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ClientCertificateRequired = true,
                CertificateChainPolicy = clientChain,
                RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            }),
        };

        void Https(ListenOptions listen)
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            HandshakeAdmission.UseBeforeTls(listen, admission);
            settings.BeforeTls?.Invoke(listen);
            listen.UseHttps(handshake);
            HandshakeAdmission.UseAfterTls(listen, admission);
            settings.AfterTls?.Invoke(listen);
        }

        foreach (var port in settings.MorePorts.Prepend(options.Port))
        {
            switch (options.ListenAddress)
            {
                case "*":
                    kestrel.ListenAnyIP(port, Https);
                    break;
                case "localhost":
                    kestrel.ListenLocalhost(port, Https);
                    break;
                default:
                    kestrel.Listen(IPAddress.Parse(options.ListenAddress), port, Https);
                    break;
            }
        }
    }
}
