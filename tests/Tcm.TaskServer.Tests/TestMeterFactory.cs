using System.Diagnostics.Metrics;

namespace Tcm.TaskServer.Tests;

/// <summary>A meter factory for the Task Server's metrics in a test: its meters live as long as it does.</summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options);
        _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        foreach (var meter in _meters)
        {
            meter.Dispose();
        }
    }
}
