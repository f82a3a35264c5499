using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Tcm.Agent.Network;

namespace Tcm.Agent.Tests.Connection;

/// <summary>Back through the proxy after an outage, in memory on a manual clock: when the agent asks the proxy again, and what then.</summary>
public sealed class ProxyReturnTests
{
    private static readonly DnsEndPoint Server = new("ns.corp.example", 4443);
    private static readonly DnsEndPoint Proxy = new("proxy.corp.example", 3128);
    private static readonly ProxySettings Settings = new() { Mode = ProxyMode.Explicit, Address = "http://proxy.corp.example:3128", AllowDirect = true };

    private readonly TimerCountingTimeProvider _time = new();
    private readonly ProxiedNetworkTests.ScriptedNetwork _inner = new() { Answer = "HTTP/1.1 200 Connection established\r\n\r\n", Refuse = Proxy };
    private readonly List<Task> _background = [];
    private readonly ProxiedNetwork _network;
    private readonly ProxyReturn _proxyReturn;
    private int _reopened;

    public ProxyReturnTests()
    {
        _network = new ProxiedNetwork(_inner, () => Settings, null, NullLogger.Instance);
        // Initial = Max: every delay is at most one second, whatever the jitter.
        _proxyReturn = new ProxyReturn(_network, _time, new BackoffOptions { Initial = TimeSpan.FromSeconds(1), Max = TimeSpan.FromSeconds(1) }, TimeSpan.FromSeconds(3),
            NullLogger.Instance, work => _background.Add(work(CancellationToken.None)), _ => { _reopened++; return Task.CompletedTask; });
        _network.WentDirect = _proxyReturn.WentDirect;
    }

    [Fact]
    public async Task AfterAConnectionWentDirect_AsksTheProxyAgainOnTheBackOff_AndReopensTheConnectionsOnceItAnswers()
    {
        _time.ActiveTimers.Should().Be(0, "nothing to wait for while the proxy works");
        await using (await _network.ConnectAsync(Server, TrafficPurpose.Management, CancellationToken.None))
        {
        }

        _time.ActiveTimers.Should().Be(1, "the agent went directly: it asks the proxy again later");
        _time.Advance(TimeSpan.FromSeconds(1));
        await Task.WhenAll(_background);
        _inner.Dialled.Should().Equal([Proxy, Server, Proxy], "one question to the proxy, which still refuses");
        _reopened.Should().Be(0);
        _time.ActiveTimers.Should().Be(1, "asked again after the next delay");

        _inner.Refuse = null;
        _time.Advance(TimeSpan.FromSeconds(1));
        await Task.WhenAll(_background);

        _inner.Written.Should().EndWith("CONNECT ns.corp.example:4443 HTTP/1.1\r\nHost: ns.corp.example:4443\r\n\r\n", "it asked for a tunnel to the destination that went directly");
        _reopened.Should().Be(1, "both connections open again, through the proxy");
        _time.ActiveTimers.Should().Be(0, "back through the proxy: no timer kept");
    }

    [Fact]
    public async Task AStoppedAgent_DoesNotWaitForTheProxy()
    {
        _proxyReturn.Reset(stop: true);

        await using (await _network.ConnectAsync(Server, TrafficPurpose.Management, CancellationToken.None))
        {
        }

        _time.ActiveTimers.Should().Be(0);
    }
}
