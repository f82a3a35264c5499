using System.Net.WebSockets;
using Microsoft.Extensions.Logging.Abstractions;
using Tcm.Channels.Delivery;
using Tcm.Channels.Framing;
using Tcm.Protocol;

namespace Tcm.Channels.Tests;

/// <summary>
/// A session reads its agent's next message while the results it read commit (<see cref="AgentSession{TAgent}.AcceptResultAsync"/>):
/// each result is acknowledged after its own commit, at most a bound of them are in flight, and a channel that ends waits for them.
/// The store here is a completion source per result, committed by the test.
/// </summary>
public sealed class ResultsInFlightTests
{
    private static readonly TimeSpan Deadline = Eventually.DefaultDeadline;

    [Fact]
    public async Task Results_AreStoredWhileTheSessionReadsOn_EachAcknowledgedAfterItsOwnCommit_ARefusalSaysWhy()
    {
        var (socket, session, run) = Start(maxResultsInFlight: 32);

        foreach (var key in new[] { "k1", "k2", "k3" })
        {
            socket.PeerSends(MessageCodec.Encode(Result(key)));
        }

        socket.PeerSends(MessageCodec.Encode(new AckMessage { UpToSeq = 1 }));

        await Eventually.WaitAsync(() => session.AcksRead == 1, Deadline, "the ack after the three results to be read while none committed");
        session.StoresStarted.Should().Equal("k1", "k2", "k3");
        session.ResultsInFlight!.Count.Should().Be(3);
        Sent(socket).Should().BeEmpty("no result has committed");

        session.Commit("k2");
        await Eventually.WaitAsync(() => AckedKeys(socket).Contains("k2"), Deadline, "k2's acknowledgement");
        AckedKeys(socket).Should().Equal(["k2"], "k1 and k3 have not committed");

        session.Refuse("k1", new ArgumentException("the key names another task"));
        session.Commit("k3");
        await Eventually.WaitAsync(() => AckedKeys(socket).Contains("k3") && Sent(socket).OfType<ErrorMessage>().Any(), Deadline, "k3's acknowledgement and k1's refusal");
        Sent(socket).OfType<ErrorMessage>().Should().ContainSingle()
            .Which.Should().BeEquivalentTo(new ErrorMessage { Code = CloseReasons.Malformed, Detail = "the key names another task", Fatal = false });
        AckedKeys(socket).Should().Equal("k2", "k3");
        await Eventually.WaitAsync(() => session.ResultsInFlight!.Count == 0, Deadline, "nothing in flight");

        socket.PeerCloses();
        await run.WaitAsync(Deadline);
        socket.SentCloseStatus.Should().Be(WebSocketCloseStatus.NormalClosure, "a refused result does not end the channel");
    }

    [Fact]
    public async Task AtTheBound_TheReadLoopWaits_AndReadsOnOnceAResultCommits()
    {
        var (socket, session, run) = Start(maxResultsInFlight: 2);

        foreach (var key in new[] { "k1", "k2", "k3" })
        {
            socket.PeerSends(MessageCodec.Encode(Result(key)));
        }

        await Eventually.WaitAsync(() => session.ResultsInFlight?.IsWaiting == true, Deadline, "the read loop to wait for room");
        session.StoresStarted.Should().Equal("k1", "k2");
        socket.Unread.Should().Be(1, "the third result stays in the socket while two are in flight");

        session.Commit("k1");
        await Eventually.WaitAsync(() => session.StoresStarted.Count == 3, Deadline, "the third result to be read once the first committed");
        AckedKeys(socket).Should().Equal("k1");
        session.ResultsInFlight!.Count.Should().Be(2);

        session.Commit("k2");
        session.Commit("k3");
        socket.PeerCloses();
        await run.WaitAsync(Deadline);
        AckedKeys(socket).Should().BeEquivalentTo(["k1", "k2", "k3"]);
    }

    [Fact]
    public async Task APeerClose_IsAnsweredAfterTheResultsInFlightAreAcknowledged()
    {
        var (socket, session, run) = Start(maxResultsInFlight: 32);
        socket.PeerSends(MessageCodec.Encode(Result("k1")));
        socket.PeerCloses();

        await Eventually.WaitAsync(() => session.ResultsInFlight?.IsWaiting == true, Deadline, "the close to wait for the result in flight");
        socket.CloseSent.Task.IsCompleted.Should().BeFalse();

        session.Commit("k1");

        await socket.CloseSent.Task.WaitAsync(Deadline);
        AckedKeys(socket).Should().Equal(["k1"], "the acknowledgement went before the close");
        await run.WaitAsync(Deadline);
        session.Ended.Should().BeTrue();
    }

    [Fact]
    public async Task AChannelThatVanishes_EndsOnlyOnceItsResultsInFlightAreStored()
    {
        var (socket, session, run) = Start(maxResultsInFlight: 32);
        socket.PeerSends(MessageCodec.Encode(Result("k1")));
        socket.PeerSends(MessageCodec.Encode(Result("k2")));
        await Eventually.WaitAsync(() => session.StoresStarted.Count == 2, Deadline, "both results handed to the store");

        socket.Abort();

        await Eventually.WaitAsync(() => session.ResultsInFlight!.IsWaiting, Deadline, "the ended read loop to wait for the results in flight");
        (run.IsCompleted, session.Ended).Should().Be((false, false));
        session.Commit("k1");
        session.Commit("k2");
        await run.WaitAsync(Deadline);
        session.Ended.Should().BeTrue();
        session.ResultsInFlight!.Count.Should().Be(0);
    }

    [Fact]
    public async Task AStoreThatFails_EndsTheChannel_AndIsThrownFromItsRun()
    {
        var (socket, session, run) = Start(maxResultsInFlight: 32);
        socket.PeerSends(MessageCodec.Encode(Result("k1")));
        await Eventually.WaitAsync(() => session.StoresStarted.Count == 1, Deadline, "the result handed to the store");

        session.Refuse("k1", new InvalidOperationException("the store is broken"));

        (await run.Awaiting(r => r.WaitAsync(Deadline)).Should().ThrowAsync<InvalidOperationException>()).WithMessage("the store is broken");
        socket.Aborted.Should().BeTrue();
        session.Ended.Should().BeTrue();
        Sent(socket).Should().BeEmpty();
    }

    [Fact]
    public void TheBound_IsAtLeastOne()
    {
        var settings = new ServerChannelSettings(TimeProvider.System, 8192, TimeSpan.FromSeconds(5)) { MaxResultsInFlight = 0 };

        var create = () => new StoringSession(new ScriptedWebSocket(), settings);

        create.Should().Throw<ArgumentOutOfRangeException>();
    }

    /// <summary>A session over a scripted socket, running, its agent's hello sent.</summary>
    private static (ScriptedWebSocket Socket, StoringSession Session, Task Run) Start(int maxResultsInFlight)
    {
        var socket = new ScriptedWebSocket();
        var session = new StoringSession(socket, maxResultsInFlight);
        var run = session.RunAsync(CancellationToken.None);
        socket.PeerSends(MessageCodec.Encode(Hello));
        return (socket, session, run);
    }

    private static HelloMessage Hello => new() { ProtocolVersion = ProtocolConstants.Version, AgentId = "agent-1" };

    private static TaskResultMessage Result(string key) => new() { TaskId = key, IdempotencyKey = key, State = TaskState.Succeeded };

    private static List<Message> Sent(ScriptedWebSocket socket) =>
        [.. socket.SentSoFar().Select(text => MessageCodec.Decode(System.Text.Encoding.UTF8.GetBytes(text), 8192).Message!)];

    private static List<string> AckedKeys(ScriptedWebSocket socket) => [.. Sent(socket).OfType<AckMessage>().SelectMany(ack => ack.Keys ?? [])];

    private sealed class StoringSession(WebSocket socket, ServerChannelSettings settings)
        : AgentSession<string>(socket, "agent-1", "agent-1", "0123456789abcdef", settings, NullLogger.Instance)
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<string, TaskCompletionSource<ResultReceipt>> _stores = [];
        private readonly List<string> _started = [];
        private int _acksRead;

        public StoringSession(WebSocket socket, int maxResultsInFlight)
            : this(socket, new ServerChannelSettings(TimeProvider.System, 8192, TimeSpan.FromSeconds(5)) { MaxResultsInFlight = maxResultsInFlight })
        {
        }

        public List<string> StoresStarted
        {
            get
            {
                lock (_gate)
                {
                    return [.. _started];
                }
            }
        }

        public int AcksRead => Volatile.Read(ref _acksRead);

        public bool Ended { get; private set; }

        public void Commit(string key) => Store(key).TrySetResult(new ResultReceipt { IdempotencyKey = key });

        public void Refuse(string key, Exception failure) => Store(key).TrySetException(failure);

        protected override void OnEnded() => Ended = true;

        protected override ValueTask OnMessageAsync(Message message, int bytes)
        {
            switch (message)
            {
                case HelloMessage when TryActivate():
                    break;
                case TaskResultMessage result:
                    lock (_gate)
                    {
                        _started.Add(result.IdempotencyKey);
                    }

                    return AcceptResultAsync(Store(result.IdempotencyKey).Task);
                case AckMessage:
                    Interlocked.Increment(ref _acksRead);
                    break;
                default:
                    RefuseUnexpected(message);
                    break;
            }

            return ValueTask.CompletedTask;
        }

        private TaskCompletionSource<ResultReceipt> Store(string key)
        {
            lock (_gate)
            {
                if (!_stores.TryGetValue(key, out var store))
                {
                    _stores[key] = store = new TaskCompletionSource<ResultReceipt>(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                return store;
            }
        }
    }
}
