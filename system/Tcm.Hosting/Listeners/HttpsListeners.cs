using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Tcm.Hosting.Listeners;

/// <summary>
/// The HTTPS listeners every TCM server has: on <see cref="TcmServerOptions.ListenAddress"/> and each port, HTTP/1.1 and
/// HTTP/2, TLS 1.2/1.3 with the certificate of a <see cref="ServerCertificateHolder"/>, client certificates requested but not
/// checked in the handshake: the server checks them itself (cached per certificate) and answers with a reason, instead of
/// failing the handshake.
/// </summary>
internal static class HttpsListeners
{
    public static void Configure(KestrelServerOptions kestrel, TcmServerOptions options, ServerCertificateHolder certificate, TcmListenerSettings settings)
    {
        settings.Kestrel?.Invoke(kestrel);
        var handshake = new TlsHandshakeCallbackOptions
        {
            HandshakeTimeout = settings.HandshakeTimeout,
            OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = certificate.Context,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ClientCertificateRequired = true,
                RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            }),
        };

        void Https(ListenOptions listen)
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            settings.BeforeTls?.Invoke(listen);
            listen.UseHttps(handshake);
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
