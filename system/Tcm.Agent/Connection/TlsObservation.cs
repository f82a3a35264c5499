using System.Net.Security;
using System.Security.Authentication;
using Tcm.Agent.Status;
using Tcm.Protocol.Admin;

namespace Tcm.Agent.Connection;

/// <summary>
/// What a handler saw of its server's TLS (<see cref="TlsInfo"/>: protocol, cipher suite and the server's certificate), one shared
/// instance per distinct combination in the process, so an agent keeps a reference, not a copy, of what every agent sees alike.
/// </summary>
internal static class TlsObservation
{
    private static readonly BoundedCache<(SslProtocols, TlsCipherSuite, CertificateInfo?), TlsInfo> _seen = new(256);
    private static readonly BoundedCache<(string, string), TlsInfo> _reported = new(256);

    /// <summary>The TLS of an authenticated stream.</summary>
    public static TlsInfo Of(SslStream ssl)
    {
        ArgumentNullException.ThrowIfNull(ssl);
        var certificate = ssl.RemoteCertificate is { } remote ? CertificateSummary.Of(remote) : null;
        return _seen.GetOrAdd((ssl.SslProtocol, ssl.NegotiatedCipherSuite, certificate),
            static (key, _) => new TlsInfo(FormatProtocol(key.Item1), key.Item2.ToString(), key.Item3), 0);
    }

    /// <summary>A TLS another party reported (the gateway's leg to the server): protocol and cipher suite, no certificate.</summary>
    public static TlsInfo Reported(string protocol, string cipherSuite)
    {
        return _reported.GetOrAdd((protocol, cipherSuite), static (key, _) => new TlsInfo(key.Item1, key.Item2), 0);
    }

    /// <summary>The protocol as the panel names it ("TLS 1.2").</summary>
    public static string FormatProtocol(SslProtocols protocol) => protocol switch
    {
#pragma warning disable SYSLIB0039 // the names of old protocols, for display only
        SslProtocols.Tls => "TLS 1.0",
        SslProtocols.Tls11 => "TLS 1.1",
#pragma warning restore SYSLIB0039
        SslProtocols.Tls12 => "TLS 1.2",
        SslProtocols.Tls13 => "TLS 1.3",
        _ => protocol.ToString(),
    };
}
