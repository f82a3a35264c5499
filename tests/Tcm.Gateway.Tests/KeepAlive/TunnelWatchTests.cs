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
        using var folder = new TemporaryFolder("gw-watch");
        Directory.CreateDirectory(folder.Path);
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new GatewayMetrics(services.GetRequiredService<IMeterFactory>(), new CertificateApprovals(folder.Path, time, NullLogger<CertificateApprovals>.Instance), time);
        var watch = new TunnelWatch(time, metrics, NullLogger<TunnelWatch>.Instance);
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

    private static DefaultHttpContext Context(out Func<bool> aborted)
    {
        var lifetime = new Lifetime();
        var context = new DefaultHttpContext();
        context.Features.Set<IHttpRequestLifetimeFeature>(lifetime);
        aborted = () => lifetime.Aborted;
        return context;
    }

    private sealed class Lifetime : IHttpRequestLifetimeFeature
    {
        public bool Aborted { get; private set; }

        public CancellationToken RequestAborted { get; set; }

        public void Abort() => Aborted = true;
    }
}
