using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Tcm.Gateway.Certificates;
using Tcm.Gateway.Diagnostics;
using Tcm.Gateway.KeepAlive;
using Tcm.Testing;
using static Tcm.Gateway.Tests.KeepAlive.WebSocketFrames;

namespace Tcm.Gateway.Tests.KeepAlive;

public sealed class TunnelWatchTests
{
    [Fact]
    public async Task ATunnelSilentForTwoIntervals_IsEnded_OneWhoseAgentPingedIsNot_AndAnEndedTunnelIsNoLongerWatched()
    {
        var time = new FakeTimeProvider();
        using var gateway = new Watching(time);
        var (metrics, watch) = (gateway.Metrics, gateway.Watch);
        var silentAgent = new ScriptedStream();
        var pingingAgent = new ScriptedStream();
        using var silent = new AgentKeepAliveStream(silentAgent, TimeSpan.FromMinutes(5), time);
        using var pinging = new AgentKeepAliveStream(pingingAgent, TimeSpan.FromMinutes(5), time);
        var silentContext = Context(out var silentAborted);
        var pingingContext = Context(out var pingingAborted);
        using var _1 = watch.Watch(silentContext, silent, TimeSpan.FromSeconds(120));
        var pingingWatched = watch.Watch(pingingContext, pinging, TimeSpan.FromSeconds(120));
        var reading = pinging.ReadAsync(new byte[16]).AsTask();

        time.Advance(TimeSpan.FromSeconds(100));
        pingingAgent.Send(Ping());
        await Eventually.WaitAsync(() => Task.FromResult(pingingAgent.Written.Length), n => n > 0, Eventually.DefaultDeadline, "the ping answered");
        time.Advance(TimeSpan.FromSeconds(20));
        watch.Check();
        silentAborted().Should().BeFalse("120 s of silence is the limit, not past it");

        time.Advance(TimeSpan.FromSeconds(1));
        watch.Check();

        silentAborted().Should().BeTrue();
        pingingAborted().Should().BeFalse();
        metrics.KeepAliveTimeouts.Should().Be(1);
        watch.Count.Should().Be(1);
        pingingWatched.Dispose();
        watch.Count.Should().Be(0);
        reading.IsCompleted.Should().BeFalse();
    }

    [Fact]
    public void TheTick_IsAnEighthOfTheShortestSilenceLimitWatched_WithinOneAndFifteenSeconds_AndLengthensWhenThoseTunnelsEnd()
    {
        var time = new FakeTimeProvider();
        using var gateway = new Watching(time);
        var watch = gateway.Watch;
        using var stream = new AgentKeepAliveStream(new ScriptedStream(), TimeSpan.FromMinutes(5), time);
        watch.Tick.Should().Be(TunnelWatch.LongestTick, "nothing is watched");

        using var defaultAgent = watch.Watch(Context(out _), stream, TimeSpan.FromSeconds(120));
        watch.Tick.Should().Be(TimeSpan.FromSeconds(15), "the agents' default 60 s keep-alive: 120 s of silence, checked every 15 s");
        var twentySeconds = watch.Watch(Context(out _), stream, TimeSpan.FromSeconds(40));
        watch.Tick.Should().Be(TimeSpan.FromSeconds(5));
        var oneSecond = watch.Watch(Context(out _), stream, TimeSpan.FromSeconds(2));
        watch.Tick.Should().Be(TunnelWatch.ShortestTick);

        oneSecond.Dispose();
        watch.Check();
        watch.Tick.Should().Be(TimeSpan.FromSeconds(5), "the shortest limit left");
        twentySeconds.Dispose();
        watch.Check();
        watch.Tick.Should().Be(TimeSpan.FromSeconds(15));
    }

    private static DefaultHttpContext Context(out Func<bool> aborted)
    {
        var lifetime = new Lifetime();
        var context = new DefaultHttpContext();
        context.Features.Set<IHttpRequestLifetimeFeature>(lifetime);
        aborted = () => lifetime.Aborted;
        return context;
    }

    /// <summary>A watch with the gateway's metrics, and what they need.</summary>
    private sealed class Watching : IDisposable
    {
        private readonly TemporaryFolder _folder = new("gw-watch");
        private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

        public Watching(FakeTimeProvider time)
        {
            Directory.CreateDirectory(_folder.Path);
            Metrics = new GatewayMetrics(_services.GetRequiredService<IMeterFactory>(), new CertificateApprovals(_folder.Path, time, NullLogger<CertificateApprovals>.Instance), time);
            Watch = new TunnelWatch(time, Metrics, NullLogger<TunnelWatch>.Instance);
        }

        public GatewayMetrics Metrics { get; }

        public TunnelWatch Watch { get; }

        public void Dispose()
        {
            _services.Dispose();
            _folder.Dispose();
        }
    }

    private sealed class Lifetime : IHttpRequestLifetimeFeature
    {
        public bool Aborted { get; private set; }

        public CancellationToken RequestAborted { get; set; }

        public void Abort() => Aborted = true;
    }
}
