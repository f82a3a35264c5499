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

    /// <summary>Pushes a task to the agent through the admin API and receives it on the channel: what the server created, what the agent got.</summary>
    public async Task<(ActionCreated Created, TaskPushMessage Push)> PushTaskAsync()
    {
        var created = await Functional.DeliveryTests.PushTaskAsync(Server, Agent.Id);
        return (created, await Channel.ReceiveAsync<TaskPushMessage>());
    }

    public async ValueTask DisposeAsync()
    {
        await Channel.DisposeAsync();
        Agent.Dispose();
        await Server.DisposeAsync();
    }
}
