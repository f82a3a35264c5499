using Tcm.Lab;

namespace Tcm.Lab.Tests;

public sealed class DurationTextTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("0", 0)]
    public void Parses(string text, double ms)
    {
        DurationText.TryParse(text, out var value).Should().BeTrue();
        value.TotalMilliseconds.Should().Be(ms);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("30")]
    [InlineData("30 s")]
    [InlineData("2x")]
    [InlineData("")]
    public void Rejects(string text) => DurationText.TryParse(text, out _).Should().BeFalse();

    [Fact]
    public void FormatsShortly()
    {
        DurationText.Format(TimeSpan.FromMilliseconds(500)).Should().Be("500ms");
        DurationText.Format(TimeSpan.FromSeconds(90)).Should().Be("1m30s");
        DurationText.Format(TimeSpan.FromMinutes(2)).Should().Be("2m");
    }

    [Fact]
    public void PercentsAndSizes()
    {
        DurationText.TryParsePercent("12.5%", out var p).Should().BeTrue();
        p.Should().BeApproximately(0.125, 1e-12);
        DurationText.TryParsePercent("lots", out _).Should().BeFalse();
        DurationText.TryParseSize("50MB", out var b).Should().BeTrue();
        b.Should().Be(50L << 20);
    }
}
