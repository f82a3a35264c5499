using System.Security.Cryptography.X509Certificates;

namespace Tcm.Functional.Tests.Infrastructure;

/// <summary>
/// A client's link that can stall once: after <see cref="StallNextWrite"/> the next write to the connection (and everything queued
/// behind it) leaves only after the given time, as when a loaded machine leaves the client's process or its network unscheduled
/// for a while. Used under a raw <see cref="System.Net.WebSockets.ClientWebSocket"/> through the gateway (one TCP connection).
/// </summary>
internal sealed class StallingLink(X509Certificate2 trust, X509Certificate2 clientCertificate)
{
    private readonly List<StallingStream> _streams = [];

    /// <summary>An invoker whose connections stall when told; the caller disposes it.</summary>
    public HttpMessageInvoker CreateInvoker()
    {
        var handler = CemAgent.CreateHandler(trust, clientCertificate);
        handler.ConnectCallback = async (context, ct) =>
        {
            var stream = new StallingStream(await TcpDial.ConnectAsync(context.DnsEndPoint, ct));
            lock (_streams)
            {
                _streams.Add(stream);
            }

            return stream;
        };
        return new HttpMessageInvoker(handler);
    }

    /// <summary>Holds the next write of every connection made so far for <paramref name="stall"/>.</summary>
    public void StallNextWrite(TimeSpan stall)
    {
        lock (_streams)
        {
            _streams.Should().NotBeEmpty("the link stalls a connection it made");
            foreach (var stream in _streams)
            {
                stream.StallNextWrite(stall);
            }
        }
    }

    /// <summary>How many writes were held.</summary>
    public int Stalled
    {
        get
        {
            lock (_streams)
            {
                return _streams.Sum(s => s.Stalled);
            }
        }
    }

}

/// <summary>
/// A stream whose next write, after <see cref="StallNextWrite"/>, leaves only after the given time (and everything queued behind it):
/// under a client's TLS connection (<see cref="StallingLink"/>), or under one channel's WebSocket, where its next write is the agent's
/// next ping.
/// </summary>
internal sealed class StallingStream(Stream inner) : Tcm.Protocol.CountingStream(inner, onRead: null, onWrite: null, ownsInner: true)
{
    private long _stallTicks;
    private int _stalled;

    /// <summary>How many writes were held.</summary>
    public int Stalled => Volatile.Read(ref _stalled);

    /// <summary>Holds the next write for <paramref name="stall"/>.</summary>
    public void StallNextWrite(TimeSpan stall) => Interlocked.Exchange(ref _stallTicks, stall.Ticks);

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stallTicks, 0) is > 0 and var ticks)
        {
            await Task.Delay(TimeSpan.FromTicks(ticks), cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _stalled);
        }

        await base.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }
}
