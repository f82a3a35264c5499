using System.Collections.Concurrent;
using Tcm.Agent.Network;

namespace Tcm.Functional.Tests.Infrastructure;

/// <summary>
/// The machine's network with a slow link to some ports on 127.0.0.1: a connect to one of them takes the given time longer, as to a
/// far site over a WAN. Records every connect (port and purpose).
/// </summary>
internal sealed class SlowLinks(IReadOnlyDictionary<int, TimeSpan> delays) : INetwork
{
    private readonly OsNetwork _machine = new();

    public ConcurrentQueue<(int Port, TrafficPurpose Purpose)> Connects { get; } = new();

    public event EventHandler? AdaptersChanged
    {
        add => _machine.AdaptersChanged += value;
        remove => _machine.AdaptersChanged -= value;
    }

    public IReadOnlyList<NetworkAdapter> GetAdapters() => _machine.GetAdapters();

    public async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, TrafficPurpose purpose, CancellationToken cancellationToken)
    {
        Connects.Enqueue((endpoint.Port, purpose));
        if (delays.TryGetValue(endpoint.Port, out var delay))
        {
            await Task.Delay(delay, cancellationToken);
        }

        return await _machine.ConnectAsync(endpoint, purpose, cancellationToken);
    }
}
