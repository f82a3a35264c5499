using System.Globalization;
using System.Text;
using Tcm.Protocol.Admin;

namespace Tcm.Agent.Status;

/// <summary>
/// The Network Status panel as text (<c>tcm agent status</c>), in the product's words and order: Notification Server (availability,
/// cryptographic protocol, cipher suite), CEM Mode (the gateway's leg, and the gateway's own leg to the server as it reports it), Server
/// Connection, Peer Downloading, Network Usage; then the route, the last attempt and the Task Server connection. "View certificate" is
/// the certificate section (<c>--certificates</c>).
/// </summary>
public static class NetworkStatusText
{
    private const int LabelWidth = 21;

    /// <summary>The panel as of <paramref name="asOfUtc"/>; with <paramref name="certificates"/>, the certificates the agent saw.</summary>
    public static string Format(NetworkStatus status, DateTime asOfUtc, bool certificates = false)
    {
        ArgumentNullException.ThrowIfNull(status);
        var w = new StringBuilder();
        w.Append(CultureInfo.InvariantCulture, $"Network Status (as of {asOfUtc:u})").AppendLine();
        Line(w, "Notification Server:", $"{status.Availability}{Address(status.ServerAddress)}{Tls(status.TlsProtocol, status.CipherSuite)}{View(status.ServerCertificate, "Notification Server", certificates)}");
        Line(w, "CEM Mode:", $"{status.CemState}{Tls(status.GatewayTlsProtocol, status.GatewayCipherSuite)}{View(status.GatewayCertificate, "internet gateway", certificates)}");
        if (status.BackendTlsProtocol is not null)
        {
            Line(w, "Gateway to server:", $"{Tls(status.BackendTlsProtocol, status.BackendCipherSuite).TrimStart()} (as the gateway reports it)");
        }

        Line(w, "Server Connection:", $"{TransportText(status)} Sent: {Kb(status.BytesSent)} Received: {Kb(status.BytesReceived)}");
        Line(w, "Peer Downloading:", status.PeerDownloading ?? "Disabled");
        Line(w, "Network Usage:", status.NetworkUsage ?? "Unrestricted");
        if (status.RouteReason is not null)
        {
            Line(w, "Route:", status.RouteReason);
        }

        if (ProxyLine(status) is { } proxy)
        {
            Line(w, "Proxy:", proxy);
        }

        Attempt(w, "Last attempt:", status.LastAttempt);
        if (status.TaskServer is { } ts)
        {
            Line(w, "Task Server:", $"{ts.Availability}{Address(ts.ServerAddress)}, {TransportText(ts)}"
                + $"{Tls(ts.TlsProtocol ?? ts.GatewayTlsProtocol, ts.TlsProtocol is null ? ts.GatewayCipherSuite : ts.CipherSuite)}{View(ts.ServerCertificate, "Task Server", certificates)}");
            Attempt(w, "Task Server attempt:", ts.LastAttempt);
        }

        if (certificates)
        {
            Certificate(w, "Notification Server certificate", status.ServerCertificate);
            Certificate(w, "Internet gateway certificate", status.GatewayCertificate ?? status.TaskServer?.GatewayCertificate);
            Certificate(w, "Task Server certificate", status.TaskServer?.ServerCertificate);
            Certificate(w, "Rejected certificate (last attempt)", status.LastAttempt?.Certificate);
            Certificate(w, "Rejected certificate (Task Server attempt)", status.TaskServer?.LastAttempt?.Certificate);
        }

        return w.ToString();
    }

    // "via proxy host:port", or "direct" when the proxy failed and the profile allowed a direct attempt; the proxy's failure in brackets.
    private static string? ProxyLine(NetworkStatus s) =>
        s.Proxy is null && s.ProxyProblem is null ? null : $"{(s.Proxy is { } via ? $"via proxy {via}" : "direct")}{(s.ProxyProblem is { } problem ? $" ({problem})" : "")}";

    /// <summary>One attempt on one line: when, what was dialled (route, target, proxy), and what answered.</summary>
    public static string DescribeAttempt(ConnectionAttempt attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        var via = attempt.Proxy is null ? "no proxy" : $"via proxy {attempt.Proxy}";
        var target = attempt.Target is null ? "" : $" for {attempt.Target}";
        var tried = $"{attempt.At.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)} {attempt.Address}{target} ({attempt.Route}, {via})";
        return attempt.Outcome == AttemptOutcome.Connected
            ? $"{tried}: connected"
            : $"{tried}: {Kebab(attempt.Outcome)}: {attempt.Detail}";
    }

    /// <summary>The outcome as the simulator's conditions and the console name it (<c>connection-refused</c>).</summary>
    public static string Kebab(AttemptOutcome outcome)
    {
        var name = outcome.ToString();
        var w = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                w.Append('-');
            }

            w.Append(char.ToLowerInvariant(name[i]));
        }

        return w.ToString();
    }

    private static void Attempt(StringBuilder w, string label, ConnectionAttempt? attempt)
    {
        if (attempt is not null)
        {
            Line(w, label, DescribeAttempt(attempt));
        }
    }

    private static void Certificate(StringBuilder w, string title, CertificateInfo? certificate)
    {
        if (certificate is null)
        {
            return;
        }

        w.AppendLine().AppendLine(title);
        Line(w, "  Subject:", certificate.Subject);
        Line(w, "  Issuer:", certificate.Issuer);
        Line(w, "  Valid from:", certificate.NotBefore.UtcDateTime.ToString("u", CultureInfo.InvariantCulture));
        Line(w, "  Valid to:", certificate.NotAfter.UtcDateTime.ToString("u", CultureInfo.InvariantCulture));
        Line(w, "  Thumbprint:", certificate.Thumbprint);
        if (certificate.ValidationError is { } error)
        {
            Line(w, "  Rejected:", error);
        }
    }

    private static string TransportText(NetworkStatus s) => s.TransportDetail ?? (s.Transport == TransportKind.Persistent ? "Persistent" : "HTTP");

    private static string Address(string? address) => address is null ? "" : $" ({address})";

    private static string Tls(string? protocol, string? cipher) => protocol is null ? "" : $" Cryptographic protocol: {protocol} Cipher suite: {cipher}";

    private static string View(CertificateInfo? certificate, string whose, bool shown) =>
        certificate is null || shown ? "" : $" [View {whose} certificate: --certificates]";

    private static string Kb(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.00} KB");

    private static void Line(StringBuilder w, string label, string text) => w.Append(label.PadRight(LabelWidth)).AppendLine(text);
}
