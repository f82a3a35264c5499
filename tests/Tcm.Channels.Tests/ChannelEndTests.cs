using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Tcm.Channels.Framing;

namespace Tcm.Channels.Tests;

public sealed class ChannelEndTests
{
    [Fact]
    public async Task ConcurrentSenders_EachSeeTheirMessagesLeaveInOrder_NeverTwoSendsAtATime()
    {
        var socket = new ScriptedWebSocket { HoldSends = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        var end = new TestEnd(socket, new FakeTimeProvider());
        const int Senders = 8;
        const int PerSender = 25;

        // Every sender queues all its messages without waiting for one to go out, all at once, while the first send is held.
        using var start = new ManualResetEventSlim();
        var senders = Enumerable.Range(0, Senders).Select(s => Task.Run(() =>
        {
            start.Wait(Eventually.DefaultDeadline);
            return Enumerable.Range(0, PerSender).Select(i => end.SendPayloadAsync(Encoding.UTF8.GetBytes($"{s}:{i}"), CancellationToken.None)).ToList();
        })).ToList();
        start.Set();
        var queued = (await Task.WhenAll(senders).WaitAsync(Eventually.DefaultDeadline)).SelectMany(t => t).ToList();
        await Eventually.WaitAsync(() => socket.MostSendsInFlight, n => n == 1, Eventually.DefaultDeadline, "the first send to be on the socket");
        socket.HoldSends.SetResult();

        var results = await Task.WhenAll(queued).WaitAsync(Eventually.DefaultDeadline);
        results.Should().AllSatisfy(sent => sent.Should().BeTrue());
        socket.MostSendsInFlight.Should().Be(1);
        socket.Sent.Should().HaveCount(Senders * PerSender);
        for (var s = 0; s < Senders; s++)
        {
            socket.Sent.Where(m => m.StartsWith($"{s}:", StringComparison.Ordinal)).Select(m => int.Parse(m[(m.IndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture))
                .Should().BeInAscendingOrder().And.HaveCount(PerSender);
        }
    }

    [Fact]
    public async Task AfterTheClose_NothingIsSent_AndAWaitingSenderHearsSo()
    {
        var socket = new ScriptedWebSocket();
        var end = new TestEnd(socket, new FakeTimeProvider());

        (await end.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye")).Should().BeTrue();
        (await end.SendPayloadAsync("late"u8.ToArray(), CancellationToken.None).WaitAsync(Eventually.DefaultDeadline)).Should().BeFalse();

        socket.Sent.Should().BeEmpty();
        socket.SentCloseDescription.Should().Be("bye");
        end.IsCloseQueued.Should().BeTrue();
    }

    [Fact]
    public async Task ASecondClose_IsTheFirstOne()
    {
        var socket = new ScriptedWebSocket();
        var end = new TestEnd(socket, new FakeTimeProvider());

        await end.CloseAsync(WebSocketCloseStatus.PolicyViolation, "first");
        await end.CloseAsync(WebSocketCloseStatus.NormalClosure, "second");

        socket.SentCloseStatus.Should().Be(WebSocketCloseStatus.PolicyViolation);
        socket.SentCloseDescription.Should().Be("first");
    }

    [Fact]
    public void APeerThatIgnoresTheClose_IsAbortedOnlyPastTheDeadlineOfTheClock()
    {
        var time = new FakeTimeProvider();
        var socket = new ScriptedWebSocket();
        var end = new TestEnd(socket, time);
        end.CloseDeadlineMs.Should().Be(0);
        end.AbortIfCloseOverdue(long.MaxValue).Should().BeFalse("no close is queued");

        _ = end.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye");

        end.CloseDeadlineMs.Should().Be(time.GetUtcNow().Add(TestEnd.Timeout).ToUnixTimeMilliseconds());
        end.AbortIfCloseOverdue(end.CloseDeadlineMs).Should().BeFalse();
        socket.Aborted.Should().BeFalse();
        end.AbortIfCloseOverdue(end.CloseDeadlineMs + 1).Should().BeTrue();
        socket.Aborted.Should().BeTrue();
    }

    [Fact]
    public async Task AFailedSend_AbortsTheSocket_AndFailsWhatWasQueued()
    {
        var socket = new ScriptedWebSocket { HoldSends = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        var end = new TestEnd(socket, new FakeTimeProvider());
        var first = end.SendPayloadAsync("one"u8.ToArray(), CancellationToken.None);
        var second = end.SendPayloadAsync("two"u8.ToArray(), CancellationToken.None);

        socket.HoldSends.SetException(new WebSocketException(WebSocketError.ConnectionClosedPrematurely));

        (await first.WaitAsync(Eventually.DefaultDeadline)).Should().BeFalse();
        (await second.WaitAsync(Eventually.DefaultDeadline)).Should().BeFalse();
        socket.Aborted.Should().BeTrue();
        end.Failures.Should().ContainSingle().Which.Should().BeOfType<WebSocketException>();
    }

    private sealed class TestEnd(WebSocket socket, TimeProvider time) : ChannelEnd(socket)
    {
        public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

        public List<Exception> Failures { get; } = [];

        protected override TimeProvider Time => time;

        protected override TimeSpan CloseTimeout => Timeout;

        public Task<bool> CloseAsync(WebSocketCloseStatus status, string description) => QueueClose(status, description);

        protected override void OnSendFailed(Exception exception) => Failures.Add(exception);
    }
}
