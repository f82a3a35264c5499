using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tcm.Agent.Network;

/// <summary>A proxy to tunnel through: its <c>host:port</c>, the Basic credentials it is given, and whether a direct attempt may follow its failure.</summary>
internal sealed record ProxyTarget(string Host, int Port, NetworkCredential? Credentials, bool AllowDirect)
{
    public string HostAndPort => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>How a proxy failed; every kind may be followed by a direct attempt when the profile allows it.</summary>
internal enum ProxyFailure
{
    /// <summary>No TCP connection to the proxy (refused, unreachable, timed out).</summary>
    Unreachable,
    /// <summary>The proxy answered <c>407</c> (or <c>401</c>): no credentials, or the ones given were refused.</summary>
    CredentialsRefused,
    /// <summary>The proxy answered the <c>CONNECT</c> with another status (forbidden port, the server unreachable from the proxy).</summary>
    Refused,
    /// <summary>The proxy closed or answered something that is not HTTP.</summary>
    Broken,
}

/// <summary>The proxy did not open the tunnel; <see cref="Exception.Message"/> says which proxy, to where, and what answered.</summary>
internal sealed class ProxyFailedException(ProxyFailure failure, string message, Exception? inner = null) : IOException(message, inner)
{
    public ProxyFailure Failure { get; } = failure;
}

/// <summary>
/// Opens a tunnel through an HTTP proxy (RFC 9110 section 9.3.6, <c>CONNECT host:port</c>): the TCP connection to the proxy comes
/// from <see cref="INetwork"/> like every other socket, so the simulated network decides whether the proxy is reachable; the
/// stream returned carries the agent's TLS to the server end to end, so the proxy sees neither the certificates nor the traffic.
/// </summary>
internal static class ProxyTunnel
{
    // A proxy's answer to CONNECT is a status line and a few headers; anything longer is not a proxy.
    private const int MaxAnswerBytes = 8192;

    /// <summary>
    /// Step 1: a TCP connection to the proxy; step 2: <c>CONNECT</c> with <c>Proxy-Authorization: Basic</c> when there are credentials;
    /// step 3: a 2xx answer leaves the stream as the tunnel. Throws <see cref="ProxyFailedException"/> otherwise.
    /// </summary>
    public static async ValueTask<Stream> OpenAsync(INetwork network, ProxyTarget proxy, DnsEndPoint destination, TrafficPurpose purpose, CancellationToken ct)
    {
        var target = destination.Host.Contains(':', StringComparison.Ordinal) ? $"[{destination.Host}]:{destination.Port}" : $"{destination.Host}:{destination.Port}";
        Stream stream;
        try
        {
            // :: Step 1
            stream = await network.ConnectAsync(new DnsEndPoint(proxy.Host, proxy.Port), purpose, ct).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw new ProxyFailedException(ProxyFailure.Unreachable, $"proxy {proxy.HostAndPort} not reachable: {Describe(ex)}", ex);
        }
        catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new ProxyFailedException(ProxyFailure.Unreachable, $"proxy {proxy.HostAndPort} not reachable: no answer in time", ex);
        }

        try
        {
            // :: Step 2
            await stream.WriteAsync(Request(target, proxy.Credentials), ct).ConfigureAwait(false);
            await stream.FlushAsync(ct).ConfigureAwait(false);

            // :: Step 3
            var (status, reason) = await ReadStatusAsync(stream, proxy, ct).ConfigureAwait(false);
            if (status is >= 200 and < 300)
            {
                return stream;
            }

            // why 401 too: some proxies (tinyproxy) answer wrong credentials with 401 rather than 407.
            throw status is 407 or 401
                ? new ProxyFailedException(ProxyFailure.CredentialsRefused, proxy.Credentials is null
                    ? $"proxy {proxy.HostAndPort} asks for credentials and the profile gives none ({status} {reason})"
                    : $"proxy {proxy.HostAndPort} refused the credentials of '{proxy.Credentials.UserName}' ({status} {reason})")
                : new ProxyFailedException(ProxyFailure.Refused, $"proxy {proxy.HostAndPort} refused CONNECT {target} ({status} {reason})");
        }
        catch (Exception ex) when (ex is IOException and not ProxyFailedException)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw new ProxyFailedException(ProxyFailure.Broken, $"proxy {proxy.HostAndPort} closed the connection before opening the tunnel to {target}: {ex.Message}", ex);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The <c>CONNECT</c> request's bytes.</summary>
    internal static byte[] Request(string target, NetworkCredential? credentials)
    {
        var text = new StringBuilder(128)
            .Append(CultureInfo.InvariantCulture, $"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if (credentials is not null)
        {
            var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.UserName}:{credentials.Password}"));
            text.Append(CultureInfo.InvariantCulture, $"Proxy-Authorization: Basic {basic}\r\n");
        }

        return Encoding.ASCII.GetBytes(text.Append("\r\n").ToString());
    }

    /// <summary>
    /// Reads the answer up to its blank line, one byte at a time: nothing after it may be consumed, since the server's TLS follows
    /// on the same stream (a proxy sends nothing more before the agent's ClientHello, but a body of an error answer is not read).
    /// </summary>
    internal static async ValueTask<(int Status, string Reason)> ReadStatusAsync(Stream stream, ProxyTarget proxy, CancellationToken ct)
    {
        var answer = new byte[MaxAnswerBytes];
        var length = 0;
        while (length < 4 || answer[length - 1] != '\n' || answer[length - 2] != '\r' || answer[length - 3] != '\n' || answer[length - 4] != '\r')
        {
            if (length == answer.Length)
            {
                throw new ProxyFailedException(ProxyFailure.Broken, $"proxy {proxy.HostAndPort} answered CONNECT with more than {MaxAnswerBytes} bytes of headers");
            }

            if (await stream.ReadAsync(answer.AsMemory(length, 1), ct).ConfigureAwait(false) == 0)
            {
                throw new ProxyFailedException(ProxyFailure.Broken, $"proxy {proxy.HostAndPort} closed the connection before answering CONNECT");
            }

            length++;
        }

        var statusLine = Encoding.ASCII.GetString(answer, 0, Array.IndexOf(answer, (byte)'\r'));
        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            throw new ProxyFailedException(ProxyFailure.Broken, $"proxy {proxy.HostAndPort} answered CONNECT with '{statusLine}', which is not HTTP");
        }

        return (status, parts.Length == 3 ? parts[2] : "");
    }

    private static string Describe(SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.TimedOut => "timed out",
        SocketError.NetworkUnreachable => "network unreachable",
        SocketError.HostUnreachable => "host unreachable",
        SocketError.HostNotFound => "host not found",
        _ => ex.Message,
    };
}
