using System.Net.WebSockets;
using Tcm.Channels.Delivery;
using Tcm.Channels.Framing;
using Tcm.Protocol;
using Microsoft.Extensions.Logging;

namespace Tcm.Channels.Tests;

/// <summary>What the NS's and the TS's sessions share: their welcome, their refusal of a message out of turn, the log of how a channel ended.</summary>
public sealed class AgentSessionTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AFirstMessageThatIsNotHello_IsRefused_NamingItsWireKind_AndLogged()
    {
        var socket = new ScriptedWebSocket();
        var logs = new CollectingLoggerProvider();
        var session = new TestSession(socket, logs);
        var run = session.RunAsync(CancellationToken.None);

        socket.PeerSends(MessageCodec.Encode(new AckMessage { UpToSeq = 1 }));

        await socket.CloseSent.Task.WaitAsync(Deadline);
        socket.SentCloseDescription.Should().Be("protocol-violation: the first message must be 'hello', not 'ack'");
        logs.Entries.Should().ContainSingle(e => e.Level == LogLevel.Warning)
            .Which.Message.Should().Be("Channel 0123456789abcdef of agent agent-1 is closed: protocol-violation: the first message must be 'hello', not 'ack'");
        socket.PeerCloses();
        await run.WaitAsync(Deadline);
        session.Ended.Should().BeTrue();
    }

    [Theory]
    [InlineData("task.push")]
    [InlineData("hello")]
    public async Task AMessageOnlyTheServerSends_OrASecondHello_IsRefused(string kind)
    {
        var socket = new ScriptedWebSocket();
        var session = new TestSession(socket, new CollectingLoggerProvider());
        var run = session.RunAsync(CancellationToken.None);
        socket.PeerSends(MessageCodec.Encode(Hello));
        await session.Welcomed.Task.WaitAsync(Deadline);

        socket.PeerSends(MessageCodec.Encode(kind == "hello" ? Hello : new TaskPushMessage { Seq = 1, TaskId = "t1", Command = "echo" }));

        await socket.CloseSent.Task.WaitAsync(Deadline);
        socket.SentCloseDescription.Should().Be(kind == "hello"
            ? "protocol-violation: a second 'hello' on the same channel"
            : "protocol-violation: 'task.push' is sent by the server, not by an agent");
        socket.PeerCloses();
        await run.WaitAsync(Deadline);
    }

    [Fact]
    public async Task TheWelcome_NamesTheAgentTheServerTheConnectionAndTheLargestMessage()
    {
        var socket = new ScriptedWebSocket();
        var session = new TestSession(socket, new CollectingLoggerProvider());
        var run = session.RunAsync(CancellationToken.None);

        socket.PeerSends(MessageCodec.Encode(Hello));

        var welcome = await session.Welcomed.Task.WaitAsync(Deadline);
        welcome.Should().BeEquivalentTo(new WelcomeMessage
        {
            ProtocolVersion = ProtocolConstants.Version,
            AgentId = "agent-1",
            ServerName = "server-1",
            ConnectionId = "0123456789abcdef",
            MaxMessageBytes = 8192,
        });
        socket.PeerCloses();
        await run.WaitAsync(Deadline);
    }

    private static HelloMessage Hello => new() { ProtocolVersion = ProtocolConstants.Version, AgentId = "agent-1" };

    private sealed class TestSession(WebSocket socket, CollectingLoggerProvider logs)
        : AgentSession<string>(socket, "agent-1", "agent-1", "0123456789abcdef",
            new ServerChannelSettings(TimeProvider.System, 8192, TimeSpan.FromSeconds(5)), logs.CreateLogger("session"))
    {
        public TaskCompletionSource<WelcomeMessage> Welcomed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Ended { get; private set; }

        protected override void OnEnded() => Ended = true;

        protected override ValueTask OnMessageAsync(Message message, int bytes)
        {
            if (!IsAwaitingHello)
            {
                RefuseUnexpected(message);
            }
            else if (message is not HelloMessage)
            {
                RefuseBeforeHello(message);
            }
            else if (TryActivate())
            {
                Welcomed.TrySetResult(Welcome("server-1"));
            }

            return ValueTask.CompletedTask;
        }
    }
}
