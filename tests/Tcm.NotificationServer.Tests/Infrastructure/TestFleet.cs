namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>Registered agents, each with its channel open and welcomed (every other one over HTTP/2); disposing closes and forgets them.</summary>
internal sealed class TestFleet : IAsyncDisposable
{
    private TestFleet(TestAgent[] agents, TestChannel[] channels)
    {
        Agents = agents;
        Channels = channels;
    }

    public TestAgent[] Agents { get; }

    public TestChannel[] Channels { get; }

    /// <summary>Registers <paramref name="count"/> agents <c>PC-0000</c>... and connects them, HTTP/2 and HTTP/1.1 alternately.</summary>
    public static async Task<TestFleet> ConnectAsync(NotificationServerHost server, int count)
    {
        var agents = await Task.WhenAll(Enumerable.Range(0, count).Select(i => server.RegisterAgentAsync($"PC-{i:0000}")));
        var connected = await Task.WhenAll(agents.Select((a, i) => a.ConnectAsync(i % 2 == 0 ? new Version(2, 0) : new Version(1, 1))));
        return new TestFleet(agents, [.. connected.Select(c => c.Channel)]);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in Channels)
        {
            await channel.DisposeAsync();
        }

        foreach (var agent in Agents)
        {
            agent.Dispose();
        }
    }
}
