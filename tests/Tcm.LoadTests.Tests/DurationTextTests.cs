namespace Tcm.LoadTests.Tests;

public sealed class DurationTextTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("2m", 120_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("00:01:30", 90_000)]
    public void Parse_AcceptsPlannerForms(string text, double ms) =>
        DurationText.Parse(text).TotalMilliseconds.Should().Be(ms);

    [Theory]
    [InlineData("soon")]
    [InlineData("10")]
    [InlineData("-5s")]
    public void Parse_RejectsOthers(string text) =>
        DurationText.TryParse(text, out _).Should().BeFalse();

    [Fact]
    public void Format_IsShort() => DurationText.Format(TimeSpan.FromSeconds(90)).Should().Be("1m30s");
}
