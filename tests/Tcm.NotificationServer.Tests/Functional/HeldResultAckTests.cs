using Microsoft.Extensions.Time.Testing;

namespace Tcm.NotificationServer.Tests.Functional;

/// <summary>
/// The server's acknowledgement of a stored result held back for an agent whose hello accepts it (docs/protocol.md section 7): it
/// rides on the next push (<see cref="PushMessage.AckKeys"/>), or goes in one <c>ack</c> after the delay, or before the server's close;
/// an agent that did not say so gets its <c>ack</c> at once; a result whose acknowledgement was lost with the channel is sent again and
/// stored once.
/// </summary>
public sealed class HeldResultAckTests
{
    private static long s_requestId;

    [Fact]
    public async Task AHeldAck_RidesOnTheNextPush_AndNoAckOfItsOwnGoesBefore()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true, time: NewClock());
        using var agent = await server.RegisterAgentAsync();
        var (channel, _) = await agent.ConnectAsync(HttpVersion.Version20, acceptsHeldResultAcks: true);
        await using var _ = channel;
        var (created, push) = await PushAsync(server, agent, channel);
        var key = await AnswerAsync(server, agent, channel, created, push);

        await DeliveryTests.PushTaskAsync(server, agent.Id);

        var next = await NextAckOrPushAsync(channel);
        next.Should().BeOfType<TaskPushMessage>("the result's acknowledgement waits for the push").Which.AckKeys.Should().Equal(key);
        var target = (await server.AdminGetAsync($"/actions/{created.ActionId}", ProtocolJsonContext.Default.ActionStatus)).Targets.Should().ContainSingle().Subject;
        target.ResultCount.Should().Be(1);
    }

    [Fact]
    public async Task WithNoPush_EveryHeldKey_GoesInOneAck_OnceTheDelayPassed_NotBefore()
    {
        var clock = NewClock();
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true, time: clock, configure: o => o.ResultAckDelay = TimeSpan.FromSeconds(5));
        using var agent = await server.RegisterAgentAsync();
        var (channel, _) = await agent.ConnectAsync(acceptsHeldResultAcks: true);
        await using var _ = channel;
        var (first, firstPush) = await PushAsync(server, agent, channel);
        var (second, secondPush) = await PushAsync(server, agent, channel);
        var firstKey = await AnswerAsync(server, agent, channel, first, firstPush);
        var secondKey = await AnswerAsync(server, agent, channel, second, secondPush);

        clock.Advance(TimeSpan.FromSeconds(4));
        (await AcksBeforeAnswerAsync(channel)).Should().BeEmpty("the oldest key has waited 4 of the 5 seconds");
        clock.Advance(TimeSpan.FromSeconds(2));

        (await channel.ReceiveAsync<AckMessage>(a => a.Keys is not null)).Keys.Should().Equal(firstKey, secondKey);
        (await AcksBeforeAnswerAsync(channel)).Should().BeEmpty("every key went in that one ack");
    }

    [Theory]
    [InlineData(false, 2)]
    [InlineData(true, 0)]
    public async Task AnAgentThatDidNotAccept_OrAServerThatHoldsNothing_AcknowledgesEveryResultAtOnce(bool accepts, int delaySeconds)
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true, configure: o => o.ResultAckDelay = TimeSpan.FromSeconds(delaySeconds));
        using var agent = await server.RegisterAgentAsync();
        var (channel, _) = await agent.ConnectAsync(acceptsHeldResultAcks: accepts);
        await using var _ = channel;
        var (created, push) = await PushAsync(server, agent, channel);
        var key = $"{agent.Id}:{push.TaskId}";

        await channel.SendAsync(Result(push, key));

        (await NextAckOrPushAsync(channel)).Should().BeOfType<AckMessage>().Which.Keys.Should().Equal(key);
        await DeliveryTests.WaitForStateAsync(server, created.ActionId, TaskState.Succeeded);
        await DeliveryTests.PushTaskAsync(server, agent.Id);
        (await channel.ReceiveAsync<TaskPushMessage>()).AckKeys.Should().BeNull();
    }

    [Fact]
    public async Task AResultWhoseHeldAckWasLostWithTheChannel_IsSentAgainAfterTheNextHello_AndStoredOnce()
    {
        // why a clock that moves only when told: nothing but the test's advance lets a held key go.
        var clock = NewClock();
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true, time: clock);
        using var agent = await server.RegisterAgentAsync();
        var (channel, _) = await agent.ConnectAsync(acceptsHeldResultAcks: true);
        var (created, push) = await PushAsync(server, agent, channel);
        var key = await AnswerAsync(server, agent, channel, created, push);
        await channel.DisposeAsync();

        var (again, _) = await agent.ConnectAsync(lastReceivedSeq: push.Seq, acceptsHeldResultAcks: true);
        await using var __ = again;
        await again.SendAsync(Result(push, key));
        await Eventually.WaitAsync(
            () => server.AdminGetAsync("/metrics", ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64), m => m["results.duplicates"] == 1, "the repeated result");
        clock.Advance(TimeSpan.FromSeconds(3));

        (await NextAckOrPushAsync(again)).Should().BeOfType<AckMessage>().Which.Keys.Should().Equal(key);
        var target = (await server.AdminGetAsync($"/actions/{created.ActionId}", ProtocolJsonContext.Default.ActionStatus)).Targets.Should().ContainSingle().Subject;
        (target.State, target.ResultCount).Should().Be((TaskState.Succeeded, 1));
        var metrics = await server.AdminGetAsync("/metrics", ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64);
        (metrics["results.stored"], metrics["results.duplicates"]).Should().Be((1L, 1L));
    }

    [Fact]
    public async Task WhenTheServerClosesTheChannel_WhatItHolds_GoesBeforeTheClose()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true, time: NewClock());
        using var agent = await server.RegisterAgentAsync();
        var (channel, _) = await agent.ConnectAsync(acceptsHeldResultAcks: true);
        await using var _ = channel;
        var (created, push) = await PushAsync(server, agent, channel);
        var key = await AnswerAsync(server, agent, channel, created, push);

        var (newer, _) = await agent.ConnectAsync(acceptsHeldResultAcks: true);
        await using var __ = newer;

        var (before, _, description) = await channel.WaitForCloseAsync();
        description.Should().StartWith(CloseReasons.Replaced);
        before.OfType<AckMessage>().Should().ContainSingle().Which.Keys.Should().Equal(key);
    }

    /// <summary>A manual clock at a whole millisecond of now (the store keeps milliseconds; certificates need the real date).</summary>
    private static FakeTimeProvider NewClock() => new(DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));

    private static async Task<(ActionCreated Created, TaskPushMessage Push)> PushAsync(NotificationServerHost server, TestAgent agent, TestChannel channel)
    {
        var created = await DeliveryTests.PushTaskAsync(server, agent.Id);
        return (created, await channel.ReceiveAsync<TaskPushMessage>(p => p.TaskId == created.ActionId));
    }

    private static TaskResultMessage Result(TaskPushMessage push, string key) =>
        new() { TaskId = push.TaskId, IdempotencyKey = key, State = TaskState.Succeeded, Output = "hello", AckUpToSeq = push.Seq };

    /// <summary>
    /// Sends the push's result and waits until the server handled it (stored, its acknowledgement held: the server reads a channel's
    /// messages one after the other, so the answer to a request sent next comes after); returns its key.
    /// </summary>
    private static async Task<string> AnswerAsync(NotificationServerHost server, TestAgent agent, TestChannel channel, ActionCreated created, TaskPushMessage push)
    {
        var key = $"{agent.Id}:{push.TaskId}";
        await channel.SendAsync(Result(push, key));
        (await AcksBeforeAnswerAsync(channel)).Should().BeEmpty("the acknowledgement is held");
        (await DeliveryTests.WaitForStateAsync(server, created.ActionId, TaskState.Succeeded)).Targets.Single().ResultCount.Should().Be(1);
        return key;
    }

    /// <summary>The next acknowledgement of results or push, whichever comes first (other messages skipped).</summary>
    private static async Task<Message> NextAckOrPushAsync(TestChannel channel)
    {
        while (true)
        {
            var message = await channel.ReceiveAsync();
            if (message is TaskPushMessage or AckMessage { Keys: not null })
            {
                return message;
            }
        }
    }

    /// <summary>
    /// The result acknowledgements that arrive before the answer to an <c>http.request</c> sent now: the channel's messages leave in
    /// order, so an acknowledgement the server had queued comes before the answer.
    /// </summary>
    private static async Task<List<AckMessage>> AcksBeforeAnswerAsync(TestChannel channel)
    {
        var requestId = Interlocked.Increment(ref s_requestId);
        await channel.SendAsync(new Tcm.Protocol.HttpRequestMessage { Id = requestId, Method = "GET", Path = TcmPaths.Policy });
        var acks = new List<AckMessage>();
        while (true)
        {
            var message = await channel.ReceiveAsync();
            if (message is Tcm.Protocol.HttpResponseMessage response && response.Id == requestId)
            {
                return acks;
            }

            if (message is AckMessage { Keys: not null } ack)
            {
                acks.Add(ack);
            }
        }
    }
}
