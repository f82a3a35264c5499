using System.Globalization;
using FluentAssertions;
using Tcm.Features.Runner;

namespace Tcm.Features.RunnerSelfTests.Steps;

/// <summary>A two-state enum for the conversion self-test.</summary>
internal enum Lamp
{
    Off,
    On,
}

/// <summary>The values the steps received, by name, as the objects they arrived as.</summary>
internal sealed class RecordedValues
{
    public Dictionary<string, object> Values { get; } = new(StringComparer.OrdinalIgnoreCase);
}

[Binding]
internal sealed class TypedParameterSteps(RecordedValues recorded)
{
    [Given(@"^a queue of ([\d,]+) items$")]
    public void GivenAQueueOfItems(int items) => recorded.Values["items"] = items;

    [Given(@"^a disk of (\d+) bytes$")]
    public void GivenADiskOfBytes(long bytes) => recorded.Values["bytes"] = bytes;

    [Given(@"^a ratio of ([\d.]+)$")]
    public void GivenARatioOf(double ratio) => recorded.Values["ratio"] = ratio;

    [Given(@"^a packet loss of ([\d. ]+%)$")]
    public void GivenAPacketLossOf(double loss) => recorded.Values["loss"] = loss;

    [Given("^a timeout of (.+)$")]
    public void GivenATimeoutOf(TimeSpan timeout) => recorded.Values["timeout"] = timeout;

    [Given("^a poll interval of (.+)$")]
    public ValueTask GivenAPollIntervalOf(TimeSpan interval)
    {
        recorded.Values["interval"] = interval;
        return ValueTask.CompletedTask;
    }

    [Given(@"^a lamp that is (\w+)$")]
    public void GivenALampThatIs(Lamp lamp) => recorded.Values["lamp"] = lamp;

    [Given("^notifications are (enabled|disabled)$")]
    public void GivenNotificationsAre(bool enabled) => recorded.Values["notify"] = enabled;

    [Then("^the recorded values are:$")]
    public void ThenTheRecordedValuesAre(DataTable expected)
    {
        foreach (var row in expected.Rows)
        {
            recorded.Values.Should().ContainKey(row["name"]);
            var value = recorded.Values[row["name"]];
            value.GetType().Name.Should().Be(row["type"], "the value '{0}' should arrive typed", row["name"]);
            Convert.ToString(value, CultureInfo.InvariantCulture).Should().Be(row["value"], "the value '{0}' should convert", row["name"]);
        }
    }

    [Then(@"^the timeout is (\d+) milliseconds$")]
    public void ThenTheTimeoutIsMilliseconds(int milliseconds) =>
        recorded.Values["timeout"].Should().Be(TimeSpan.FromMilliseconds(milliseconds));

    [Then(@"^the packet loss is the fraction ([\d.]+)$")]
    public void ThenThePacketLossIsTheFraction(double fraction) =>
        ((double)recorded.Values["loss"]).Should().BeApproximately(fraction, 1e-12);
}
