namespace Tcm.LoadTests.Tests;

/// <summary>The load tests' command line takes the lab's durations and, beside them, <c>hh:mm:ss</c>.</summary>
public sealed class DurationTextTests
{
    [Fact]
    public void Parse_AcceptsTheLabFormsAndClockTime()
    {
        DurationText.Parse("1m30s").Should().Be(TimeSpan.FromSeconds(90));
        DurationText.Parse("500ms").Should().Be(TimeSpan.FromMilliseconds(500));
        DurationText.Parse("00:01:30").Should().Be(TimeSpan.FromSeconds(90));
    }

    [Fact]
    public void Parse_RejectsOthers_NamingTheAcceptedForms()
    {
        DurationText.TryParse("10", out _).Should().BeFalse();
        DurationText.TryParse("-5s", out _).Should().BeFalse();
        DurationText.TryParse("-00:00:05", out _).Should().BeFalse();
        var parse = () => DurationText.Parse("soon");
        parse.Should().Throw<FormatException>().WithMessage("*00:01:30*");
    }

    [Fact]
    public void Format_IsShort() => DurationText.Format(TimeSpan.FromSeconds(90)).Should().Be("1m30s");
}
