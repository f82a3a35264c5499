using Microsoft.AspNetCore.Http;
using Tcm.Gateway.KeepAlive;
using Tcm.Testing;

namespace Tcm.Gateway.Tests.KeepAlive;

/// <summary>What the gateway announces to the backend and when it forwards a ping, so that the backend never closes a channel the gateway keeps.</summary>
public sealed class RelayedKeepAliveTests
{
    [Fact]
    public void AtTheDefaults_TheBackendIsToldTheRelayedInterval_AndHearsOneOfTheAgentsPingsInFive()
    {
        var keepAlive = For("60", new GatewayOptions())!.Value;

        keepAlive.RelayedInterval.Should().Be(TimeSpan.FromMinutes(5));
        keepAlive.BackendHeader.Should().Be("300");
        keepAlive.ForwardAfter.Should().Be(TimeSpan.FromMinutes(5), "12 pings per agent and hour reach the backend, as before");
        keepAlive.SilenceLimit.Should().Be(TimeSpan.FromMinutes(2));
    }

    [Theory]
    [InlineData("299", 300, "449", 300)]
    [InlineData("300", 300, "450", 300)]
    [InlineData("600", 300, "900", 600)]
    [InlineData("3600", 300, "3600", 0)]
    [InlineData("3", 6, "6", 6)]
    [InlineData("1", 1, "2", 1)]
    public void AnAgentWhoseIntervalIsOverHalfTheRelayedOne_IsAnnouncedAsHalfOfItAndItsOwn_WithinTheHeadersHour(string announced, int relayedSeconds, string header, int forwardAfterSeconds)
    {
        var keepAlive = For(announced, new GatewayOptions { RelayedKeepAliveInterval = TimeSpan.FromSeconds(relayedSeconds) })!.Value;

        keepAlive.BackendHeader.Should().Be(header);
        keepAlive.ForwardAfter.Should().Be(TimeSpan.FromSeconds(forwardAfterSeconds), "an hour's cap leaves less time before a ping is forwarded");
    }

    [Fact]
    public void ForEveryIntervalTheHeaderCarries_TwoAnnouncedIntervals_CoverTheLongestWaitTheGatewayLetsPass()
    {
        var failures = new List<string>();
        foreach (var relayed in new[] { 1, 7, 60, 299, 300, 301, 600, 3600 })
        {
            var options = new GatewayOptions { RelayedKeepAliveInterval = TimeSpan.FromSeconds(relayed) };
            for (var agent = 1; agent <= 3600; agent++)
            {
                var keepAlive = For(agent.ToString(System.Globalization.CultureInfo.InvariantCulture), options)!.Value;
                var backend = TimeSpan.FromSeconds(long.Parse(keepAlive.BackendHeader, System.Globalization.CultureInfo.InvariantCulture));

                // why: the forwarded ping is the first after ForwardAfter; the agent's next byte comes within its silence limit, or the
                // gateway ends the tunnel itself.
                if (backend * 2 < keepAlive.ForwardAfter + keepAlive.SilenceLimit || backend > TimeSpan.FromHours(1) || backend < keepAlive.RelayedInterval
                    || keepAlive.ForwardAfter < TimeSpan.Zero || keepAlive.ForwardAfter > keepAlive.RelayedInterval)
                {
                    failures.Add($"agent {agent} s, relayed {relayed} s: announced {backend}, forwarded after {keepAlive.ForwardAfter}");
                }
            }
        }

        failures.Should().BeEmpty();
    }

    [Fact]
    public void WithoutTheAgentsAnnouncement_OrWithRelayedKeepAliveOff_PingsAreRelayedEndToEnd()
    {
        For(null, new GatewayOptions()).Should().BeNull();
        For("60", new GatewayOptions { RelayedKeepAliveInterval = TimeSpan.Zero }).Should().BeNull();
    }

    [Fact]
    public async Task AnAgentPingingJustUnderTheRelayedInterval_APingLateByLessThanItsInterval_ReachesTheBackendWithinTwoAnnouncedIntervals()
    {
        // why: 299 s against 300 s: every second ping is forwarded, 598 s apart; the one after an answered ping, 298 s late, came
        // 896 s after the last the backend heard, past the 600 s it allowed when it was told 300 s.
        var keepAlive = For("299", new GatewayOptions())!.Value;
        var time = new FakeTimeProvider();
        var agent = new ScriptedStream();
        var outcomes = new List<KeepAliveOutcome>();
        using var stream = new AgentKeepAliveStream(agent, keepAlive.ForwardAfter, time, o =>
        {
            lock (outcomes)
            {
                outcomes.Add(o);
            }
        });
        var forwarded = 0;
        var reading = Task.Run(async () =>
        {
            var buffer = new byte[64];
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                Interlocked.Add(ref forwarded, n);
            }
        });

        var (now, heardAt, longestGap) = (0, 0, 0);
        foreach (var at in new[] { 299, 598, 897, 897 + 299 + 298, 1494 + 299 })
        {
            time.Advance(TimeSpan.FromSeconds(at - now));
            now = at;
            var (handled, passed) = (Count(), Volatile.Read(ref forwarded));
            agent.Send(WebSocketFrames.Ping());
            await Eventually.WaitAsync(() => Task.FromResult((Count(), Volatile.Read(ref forwarded))),
                s => s.Item1 > handled && (Last() == KeepAliveOutcome.Answered || s.Item2 > passed), Eventually.DefaultDeadline, "the ping handled");
            if (Last() == KeepAliveOutcome.Forwarded)
            {
                (longestGap, heardAt) = (Math.Max(longestGap, at - heardAt), at);
            }
        }

        outcomes.Should().Equal(KeepAliveOutcome.Answered, KeepAliveOutcome.Forwarded, KeepAliveOutcome.Answered, KeepAliveOutcome.Forwarded, KeepAliveOutcome.Answered);
        longestGap.Should().Be(896);
        longestGap.Should().BeLessThanOrEqualTo(int.Parse(keepAlive.BackendHeader, System.Globalization.CultureInfo.InvariantCulture) * 2,
            "the backend closes the channel after two announced intervals without a byte");
        agent.End();
        await reading.WaitAsync(Eventually.DefaultDeadline);

        int Count()
        {
            lock (outcomes)
            {
                return outcomes.Count;
            }
        }

        KeepAliveOutcome Last()
        {
            lock (outcomes)
            {
                return outcomes[^1];
            }
        }
    }

    private static RelayedKeepAlive? For(string? announced, GatewayOptions options)
    {
        var context = new DefaultHttpContext();
        if (announced is not null)
        {
            context.Request.Headers[Protocol.ProtocolConstants.KeepAliveHeader] = announced;
        }

        return RelayedKeepAlive.For(context.Request, options);
    }
}
