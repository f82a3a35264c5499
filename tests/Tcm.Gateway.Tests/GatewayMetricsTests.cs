using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Tcm.Gateway.Certificates;
using Tcm.Gateway.Diagnostics;
using Tcm.Protocol;
using Tcm.Testing;

namespace Tcm.Gateway.Tests;

public sealed class GatewayMetricsTests : IDisposable
{
    private readonly TemporaryFolder _folder = new("gw-metrics");
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UnixEpoch);
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly GatewayMetrics _metrics;

    public GatewayMetricsTests()
    {
        Directory.CreateDirectory(_folder.Path);
        _metrics = new GatewayMetrics(_services.GetRequiredService<IMeterFactory>(),
            new CertificateApprovals(_folder.Path, _clock, NullLogger<CertificateApprovals>.Instance), _clock);
    }

    [Fact]
    public void Rates_AreTheEventsOfTheLastWholeSecond_ComputedWhenRead()
    {
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        _metrics.Connected();
        _metrics.Connected();
        _metrics.Rejected(CloseReasons.BadCertificate);
        _metrics.ConnectsPerSecond.Should().Be(0, "the second the connects happened in is not over");

        _clock.Advance(TimeSpan.FromSeconds(1));
        _metrics.Connected();
        _metrics.ConnectsPerSecond.Should().Be(2);
        _metrics.RejectionsPerSecond.Should().Be(1);

        _clock.Advance(TimeSpan.FromSeconds(1));
        _metrics.ConnectsPerSecond.Should().Be(1);
        _metrics.RejectionsPerSecond.Should().Be(0);

        _clock.Advance(TimeSpan.FromSeconds(5));
        _metrics.ConnectsPerSecond.Should().Be(0, "nothing connected in the last whole second");
        _metrics.ConnectsTotal.Should().Be(3);
        _metrics.RejectionsTotal.Should().Be(1);
    }

    [Fact]
    public void RejectionsAndHandshakeFailures_ArePublishedAtZero_BeforeTheFirstOne_ThenCount()
    {
        Observe().Should().Contain(("tcm.gateway.handshake_failures", 0, null))
            .And.Contain(("tcm.gateway.rejections", 0, $"code={CloseReasons.CertificateHeld}"))
            .And.Contain(("tcm.gateway.rejections", 0, $"code={CloseReasons.BackendNotConfigured}"));

        _metrics.HandshakeFailed();
        _metrics.Rejected(CloseReasons.CertificateHeld);
        _metrics.Rejected("a-code-from-elsewhere");

        var after = Observe();
        after.Should().Contain(("tcm.gateway.handshake_failures", 1, null))
            .And.Contain(("tcm.gateway.rejections", 1, $"code={CloseReasons.CertificateHeld}"))
            .And.Contain(("tcm.gateway.rejections", 1, "code=a-code-from-elsewhere"))
            .And.Contain(("tcm.gateway.rejections", 0, $"code={CloseReasons.BackendNotConfigured}"));
        _metrics.HandshakeFailures.Should().Be(1);
        _metrics.RejectionsTotal.Should().Be(2);
    }

    private List<(string Instrument, long Value, string? Tag)> Observe()
    {
        var observed = new List<(string, long, string?)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == GatewayMetrics.MeterName && instrument.Meter.Scope == _services.GetRequiredService<IMeterFactory>())
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            observed.Add((instrument.Name, value, tags.Length == 0 ? null : $"{tags[0].Key}={tags[0].Value}")));
        listener.Start();
        listener.RecordObservableInstruments();
        return observed;
    }

    public void Dispose()
    {
        _metrics.Dispose();
        _services.Dispose();
        _folder.Dispose();
    }
}
