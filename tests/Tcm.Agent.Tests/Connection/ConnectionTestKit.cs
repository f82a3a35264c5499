using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Tcm.Agent.Network;
using Tcm.Agent.State;
using Tcm.Agent.Status;

namespace Tcm.Agent.Tests.Connection;

/// <summary>An agent's two connection loops in memory: no sockets (a channel is a WebSocket over a memory stream), a manual clock.</summary>
internal sealed class ConnectionTestKit : IDisposable
{
    public ConnectionTestKit()
    {
        var options = new AgentOptions
        {
            Package = new InstallPackage { ServerUrl = "https://ns.corp:4443", RegistrationToken = "token", CaCertificatePem = "ca" },
            ComputerName = "PC-UNIT",
        };
        Agent = new AgentContext(options, new NoNetwork(), new InMemoryAgentStateStore(), Time, NullLogger.Instance, new AgentCounters());
        var delivery = new NoDelivery();
        Ns = new ConnectionLoop(Agent, Agent.Counters, delivery, Status,
            loop => new NotificationServerRole(Agent, loop, delivery, _ => Task.CompletedTask, Status));
        Ts = new ConnectionLoop(Agent, new AgentCounters(), delivery, Status, loop => new TaskServerRole(Agent, loop, delivery));
        Agent.Attach(Ns, Ts);
    }

    public TimerCountingTimeProvider Time { get; } = new();

    public AgentContext Agent { get; }

    public ConnectionLoop Ns { get; }

    public ConnectionLoop Ts { get; }

    /// <summary>An open channel whose close frame goes nowhere; its socket shows whether the agent closed it.</summary>
    public AgentChannel OpenChannel(ConnectionLoop loop)
    {
        var channel = NewChannel();
        loop.State.Connected(channel, Time.GetUtcNow());
        return channel;
    }

    /// <summary>Opens a channel of <paramref name="loop"/> under the policy <paramref name="before"/>, then pushes the policy <paramref name="after"/>.</summary>
    public async Task<AgentChannel> OpenChannelThenPushPolicyAsync(ConnectionLoop loop, PolicyDocument before, PolicyDocument after)
    {
        Agent.Policy = before;
        var channel = OpenChannel(loop);
        await Agent.ApplyPolicyAsync(after, "policy push", CancellationToken.None);
        return channel;
    }

    /// <summary>A channel over a WebSocket whose frames go to a memory stream.</summary>
    public AgentChannel NewChannel() =>
        new(WebSocket.CreateFromStream(new MemoryStream(), new WebSocketCreationOptions { IsServer = false }), Time);

    public void Dispose()
    {
        Ns.Dispose();
        Ts.Dispose();
        Agent.Dispose();
    }

    private static NetworkStatus Status() => new() { Mode = ConnectionMode.Direct, Transport = TransportKind.Http };

    private sealed class NoNetwork : INetwork
    {
        public event EventHandler? AdaptersChanged { add { } remove { } }

        public IReadOnlyList<NetworkAdapter> GetAdapters() => [];

        public ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, TrafficPurpose purpose, CancellationToken cancellationToken) =>
            ValueTask.FromException<Stream>(new SocketException((int)SocketError.HostUnreachable));
    }

    private sealed class NoDelivery : IDelivery
    {
        public Task HandlePushAsync(ConnectionLoop connection, PushMessage push, AgentChannel? channel, CancellationToken ct) => Task.CompletedTask;

        public Task AcknowledgeAsync(IReadOnlyList<string> idempotencyKeys, CancellationToken ct) => Task.CompletedTask;

        public Task PollOverHttpAsync(ConnectionLoop connection, CancellationToken ct) => Task.CompletedTask;

        public void Cancel(TaskCancelMessage cancel)
        {
        }
    }
}
