using Tcm.Protocol.Admin;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Tests.Scenarios;

public sealed class WavesTextTests
{
    [Theory]
    [InlineData("10% every 5s, stop after 2% failed", null, 10.0, 5.0, 2.0, null)]
    [InlineData("200 every 1m30s", 200, null, 90.0, null, null)]
    [InlineData("25%", null, 25.0, 0.0, null, null)]
    [InlineData("  5 EVERY 500ms ,  Stop After 3 Failed ", 5, null, 0.5, null, 3)]
    [InlineData("12.5%, stop after 10 failed", null, 12.5, 0.0, null, 10)]
    public void ThePlan_IsReadFromTheScenariosWords(string text, int? size, double? percent, double every, double? stopShare, int? stopCount)
    {
        var plan = WavesText.Parse(text, out var error);

        error.Should().BeNull();
        plan.Should().Be(new WavePlan { Size = size, Percent = percent, EverySeconds = every, StopAfterFailedPercent = stopShare, StopAfterFailedCount = stopCount });
    }

    [Theory]
    [InlineData("", 0, "'waves' reads like")]
    [InlineData("10% every", 0, "'waves' reads like")]
    [InlineData("0%", 0, "a wave's share must be more than 0%")]
    [InlineData("2.5 every 5s", 0, "a wave's size must be a whole number")]
    [InlineData("10% every 5 s", 0, "'waves' reads like")]
    [InlineData("10 every 5x", 9, "'every' needs a duration like 5s or 1m (got '5x')")]
    [InlineData("10%, stop after 101% failed", 16, "'stop after' needs more than 0%")]
    public void AValueThatDoesNotRead_SaysWhereAndWhy(string text, int offset, string message)
    {
        WavesText.Parse(text, out var error).Should().BeNull();

        error!.Value.Offset.Should().Be(offset);
        error.Value.Message.Should().StartWith(message);
    }
}
