using Tcm.Hosting.Channels;

namespace Tcm.Gateway.Tests.Hosting;

public sealed class ChannelUpgradeTests
{
    [Theory]
    [InlineData("30", 30)]
    [InlineData("1", 1)]
    [InlineData("3600", 3600)]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("0", null)]
    [InlineData("3601", null)]
    [InlineData("-5", null)]
    [InlineData("30s", null)]
    [InlineData(" 30", null)]
    public void AnnouncedKeepAlive_IsWholeSecondsFromOneToAnHour_AnythingElseIsNoAnnouncement(string? header, int? seconds) =>
        ChannelUpgrade.AnnouncedKeepAlive(header).Should().Be(seconds is { } s ? TimeSpan.FromSeconds(s) : null);
}
