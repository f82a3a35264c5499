namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>
/// Where most channel tests start: a Notification Server with TCM communication on, one registered agent and its channel
/// after hello. Disposed together: the channel, the agent, then the server.
/// </summary>
/// <param name="Welcome">The server's answer to the hello.</param>
internal sealed record ConnectedAgent(NotificationServerHost Server, TestAgent Agent, TestChannel Channel, WelcomeMessage Welcome) : IAsyncDisposable
{
    /// <summary>Starts the server, registers <paramref name="computerName"/> and connects it over <paramref name="httpVersion"/> (HTTP/1.1 by default).</summary>
    public static async Task<ConnectedAgent> StartAsync(Version? httpVersion = null, string computerName = "PC-0001", IReadOnlyDictionary<string, string>? attributes = null)
    {
        var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        TestAgent? agent = null;
        try
        {
            agent = await server.RegisterAgentAsync(computerName, attributes);
            var (channel, welcome) = await agent.ConnectAsync(httpVersion);
            return new ConnectedAgent(server, agent, channel, welcome);
        }
        catch
        {
            agent?.Dispose();
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Channel.DisposeAsync();
        Agent.Dispose();
        await Server.DisposeAsync();
    }
}
