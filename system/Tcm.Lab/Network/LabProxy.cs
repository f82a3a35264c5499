using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Tcm.Agent.Network;
using Tcm.Protocol;

namespace Tcm.Lab.Network;

/// <summary>
/// The lab's HTTP proxy: a real <c>CONNECT</c> proxy on a loopback port, behind a host name of the simulated network
/// (<see cref="HostName"/>), which agents whose profile names it tunnel through. It checks Basic credentials when it has some (and
/// refuses every one while <see cref="RefuseCredentials"/> is set, as after a password change), dials the destination through its
/// own <see cref="INetwork"/> (the proxy sits where it reaches every server), answers <c>200</c> and relays bytes both ways. Stopping
/// it is the lab's job (its endpoint refuses connections); <see cref="AbortTunnels"/> cuts the open tunnels.
/// </summary>
public sealed partial class LabProxy : IAsyncDisposable
{
    /// <summary>The host name agents' profiles name the proxy by.</summary>
    public const string HostName = "proxy.tcm.lab";

    private const int MaxRequestBytes = 8192;
    private readonly Socket _listener;
    private readonly INetwork _upstream;
    private readonly string? _expectedAuthorization;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Tunnel, byte> _tunnels = new();
    private readonly Task _accepting;
    private long _opened;
    private long _credentialRefusals;
    private long _upstreamFailures;
    private volatile bool _refuseCredentials;

    private LabProxy(Socket listener, INetwork upstream, NetworkCredential? credentials, ILogger logger)
    {
        _listener = listener;
        _upstream = upstream;
        _logger = logger;
        _expectedAuthorization = credentials is null ? null : "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.UserName}:{credentials.Password}"));
        Credentials = credentials;
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        _accepting = AcceptLoopAsync(_stop.Token);
    }

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

    /// <summary>The credentials it asks for; null: none.</summary>
    public NetworkCredential? Credentials { get; }

    /// <summary>While set, every <c>CONNECT</c> is answered <c>407</c> whatever the credentials (the proxy's password changed).</summary>
    public bool RefuseCredentials { get => _refuseCredentials; set => _refuseCredentials = value; }

    /// <summary>Tunnels opened so far.</summary>
    public long TunnelsOpened => Interlocked.Read(ref _opened);

    /// <summary>Tunnels open now.</summary>
    public int TunnelsOpen => _tunnels.Count;

    /// <summary><c>CONNECT</c>s answered <c>407</c>.</summary>
    public long CredentialRefusals => Interlocked.Read(ref _credentialRefusals);

    /// <summary><c>CONNECT</c>s whose destination the proxy could not reach (answered <c>502</c>).</summary>
    public long UpstreamFailures => Interlocked.Read(ref _upstreamFailures);

    /// <summary>Starts listening on 127.0.0.1 (a free port); <paramref name="upstream"/> is the network beyond the proxy.</summary>
    public static LabProxy Start(INetwork upstream, NetworkCredential? credentials, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1024);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        return new LabProxy(listener, upstream, credentials, logger);
    }

    /// <summary>Cuts every open tunnel (no goodbye), as a proxy that dies does.</summary>
    public int AbortTunnels()
    {
        var tunnels = _tunnels.Keys.ToArray();
        foreach (var tunnel in tunnels)
        {
            tunnel.Abort();
        }

        return tunnels.Length;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        AbortTunnels();
        await _accepting.ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            client.NoDelay = true;
            _ = ServeAsync(new NetworkStream(client, ownsSocket: true), ct);
        }
    }

    /// <summary>
    /// Step 1: read the request up to its blank line; step 2: the credentials; step 3: dial the destination; step 4: <c>200</c>, then
    /// relay both ways until either side ends.
    /// </summary>
    private async Task ServeAsync(NetworkStream client, CancellationToken ct)
    {
        Stream? upstream = null;
        try
        {
            // :: Step 1
            var (target, authorization) = await ReadRequestAsync(client, ct).ConfigureAwait(false);
            if (target is null || !TryParseTarget(target, out var endpoint))
            {
                await AnswerAsync(client, "400 Bad Request", ct).ConfigureAwait(false);
                return;
            }

            // :: Step 2
            if (_expectedAuthorization is not null && (_refuseCredentials || !string.Equals(authorization, _expectedAuthorization, StringComparison.Ordinal)))
            {
                Interlocked.Increment(ref _credentialRefusals);
                await AnswerAsync(client, "407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"tcm-lab\"", ct).ConfigureAwait(false);
                return;
            }

            // :: Step 3
            try
            {
                upstream = await _upstream.ConnectAsync(endpoint, TrafficPurpose.Management, ct).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                Interlocked.Increment(ref _upstreamFailures);
                Log.UpstreamFailed(_logger, target, ex.SocketErrorCode);
                await AnswerAsync(client, "502 Bad Gateway", ct).ConfigureAwait(false);
                return;
            }

            // :: Step 4
            await AnswerAsync(client, "200 Connection established", ct).ConfigureAwait(false);
            Interlocked.Increment(ref _opened);
            var tunnel = new Tunnel(client, upstream);
            _tunnels.TryAdd(tunnel, 0);
            try
            {
                await tunnel.RelayAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                _tunnels.TryRemove(tunnel, out _);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The agent or the server went away: the tunnel ends with them.
        }
        finally
        {
            if (upstream is not null)
            {
                await upstream.DisposeAsync().ConfigureAwait(false);
            }

            await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The request's <c>CONNECT</c> target and its <c>Proxy-Authorization</c>; a null target for anything but <c>CONNECT</c>.</summary>
    private static async Task<(string? Target, string? Authorization)> ReadRequestAsync(Stream client, CancellationToken ct)
    {
        var buffer = new byte[MaxRequestBytes];
        var length = 0;
        while (length < 4 || buffer[length - 1] != '\n' || buffer[length - 2] != '\r' || buffer[length - 3] != '\n' || buffer[length - 4] != '\r')
        {
            // One byte at a time: the agent's TLS follows the request on the same stream and must not be consumed.
            if (length == buffer.Length || await client.ReadAsync(buffer.AsMemory(length, 1), ct).ConfigureAwait(false) == 0)
            {
                return (null, null);
            }

            length++;
        }

        var lines = Encoding.ASCII.GetString(buffer, 0, length).Split("\r\n");
        var request = lines[0].Split(' ');
        if (request.Length != 3 || request[0] != "CONNECT")
        {
            return (null, null);
        }

        var authorization = lines.Skip(1)
            .Where(l => l.StartsWith("Proxy-Authorization:", StringComparison.OrdinalIgnoreCase))
            .Select(l => l["Proxy-Authorization:".Length..].Trim())
            .FirstOrDefault();
        return (request[1], authorization);
    }

    private static bool TryParseTarget(string target, out DnsEndPoint endpoint)
    {
        try
        {
            var (host, port) = NetworkTopology.ParseHostPort(target);
            endpoint = new DnsEndPoint(host, port);
            return true;
        }
        catch (FormatException)
        {
            endpoint = null!;
            return false;
        }
    }

    private static async Task AnswerAsync(Stream client, string status, CancellationToken ct)
    {
        await client.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\n\r\n"), ct).ConfigureAwait(false);
        await client.FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>One open tunnel: two copiers, the first to end cancels the other, and both streams close.</summary>
    private sealed class Tunnel(Stream client, Stream upstream)
    {
        private readonly CancellationTokenSource _abort = new();

        public async Task RelayAsync(CancellationToken ct)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _abort.Token);
            var toServer = CopyAsync(client, upstream, linked.Token);
            var toAgent = CopyAsync(upstream, client, linked.Token);
            var first = await Task.WhenAny(toServer, toAgent).ConfigureAwait(false);
            await linked.CancelAsync().ConfigureAwait(false);
            // The other direction is awaited too, so its buffer goes back and its exception is observed.
            await Task.WhenAll(toServer, toAgent).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            await first.ConfigureAwait(false);
        }

        public void Abort()
        {
            try
            {
                _abort.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        private static async Task CopyAsync(Stream from, Stream to, CancellationToken ct)
        {
            while (true)
            {
                // A zero-byte read first: an idle tunnel holds no buffer.
                await from.ReadAsync(Memory<byte>.Empty, ct).ConfigureAwait(false);
                var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
                try
                {
                    var read = await from.ReadAsync(buffer, ct).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return;
                    }

                    await to.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(6100, LogLevel.Debug, "Lab proxy could not reach '{Target}': {Error}", EventName = "ProxyUpstreamFailed")]
        public static partial void UpstreamFailed(ILogger logger, string target, SocketError error);
    }
}
