using System.Diagnostics.Metrics;
using Tcm.Hosting.Diagnostics;

namespace Tcm.Gateway.Tests.Hosting;

public sealed class CountedInstrumentsTests
{
    [Fact]
    public void Counters_PublishEveryMeasurement_AndKeepTheirTotals()
    {
        using var meter = new Meter("Tcm.Tests." + Guid.NewGuid().ToString("N"));
        var published = new List<(string Instrument, long Value, string? Tag)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == meter)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            published.Add((instrument.Name, value, tags.Length == 0 ? null : $"{tags[0].Key}={tags[0].Value}")));
        listener.Start();
        var refusals = new CountedCounter(meter, "refusals", null, "refusals");
        var live = new CountedUpDownCounter(meter, "live", null, "live");
        var bytes = meter.CreateCounter<long>("bytes");
        var toAgent = new CountedCounter(bytes, "direction", "to-agent");

        refusals.Add(1, "code", "bad-certificate");
        refusals.Add();
        live.Increment();
        live.Increment();
        live.Decrement();
        toAgent.Add(100);

        refusals.Total.Should().Be(2);
        live.Value.Should().Be(1);
        toAgent.Total.Should().Be(100);
        published.Should().Equal(
            ("refusals", 1, "code=bad-certificate"), ("refusals", 1, null), ("live", 1, null), ("live", 1, null), ("live", -1, null), ("bytes", 100, "direction=to-agent"));
    }

    [Fact]
    public void CountsByKey_CountsEachKey_AndTheirSum()
    {
        var counts = new CountsByKey();

        counts.Increment("a");
        counts.Increment("b");
        counts.Increment("a");

        counts.Counts.Should().BeEquivalentTo(new Dictionary<string, long> { ["a"] = 2, ["b"] = 1 });
        counts.Sum.Should().Be(3);
    }
}
