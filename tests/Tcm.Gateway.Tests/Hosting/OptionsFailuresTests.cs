using Tcm.Hosting;
using Tcm.Hosting.Options;

namespace Tcm.Gateway.Tests.Hosting;

public sealed class OptionsFailuresTests
{
    [Fact]
    public void ValidServerOptions_HaveNoFailures()
    {
        var failures = new OptionsFailures("Test");

        failures.Server(new TestOptions(), "the test's files");

        failures.Result.Succeeded.Should().BeTrue();
    }

    [Fact]
    public void EveryBadServerSetting_IsReported_WithItsName()
    {
        var failures = new OptionsFailures("Test");

        failures.Server(new TestOptions { DataDirectory = " ", ListenAddress = "somewhere", Port = 70000, PublicHostName = "not a host", ListenBacklog = 0 }, "the test's files (default 'data/test')");

        failures.All.Should().BeEquivalentTo(
            "Test:DataDirectory must name a folder for the test's files (default 'data/test').",
            "Test:ListenAddress 'somewhere' is not an IP address, 'localhost' or '*'.",
            "Test:Port 70000 is outside 0..65535 (0 picks a free port).",
            "Test:PublicHostName 'not a host' is not a valid host name.",
            "Test:ListenBacklog 0 is outside 1..65535.");
    }

    [Fact]
    public void EveryBadChannelSetting_IsReported_WithItsName()
    {
        var failures = new OptionsFailures("Test");

        failures.Channel(
            new TestChannelOptions { MaxMessageBytes = 100, HelloTimeout = TimeSpan.Zero, KeepAliveInterval = TimeSpan.FromSeconds(-1), KeepAliveTimeout = TimeSpan.FromSeconds(-1), MaxPushesInFlight = 0, MaxResultsInFlight = 1025, ResultAckDelay = TimeSpan.FromSeconds(61) },
            1024 * 1024);

        failures.All.Should().BeEquivalentTo(
            "Test:MaxMessageBytes 100 is outside 4096..1048576.",
            "Test:HelloTimeout 00:00:00 must be greater than zero and at most 5 minutes.",
            "Test:KeepAliveInterval -00:00:01 must not be negative (zero disables pings).",
            "Test:KeepAliveTimeout -00:00:01 must not be negative.",
            "Test:MaxPushesInFlight 0 is outside 1..10000000.",
            "Test:MaxResultsInFlight 1025 is outside 1..1024.",
            "Test:ResultAckDelay 00:01:01 must be between zero (every result acknowledged at once) and 1 minute.");
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(2_000, true)]
    [InlineData(60_000, true)]
    [InlineData(-1, false)]
    [InlineData(60_001, false)]
    public void ResultAckDelay_IsZeroOrUpToAMinute(int milliseconds, bool valid)
    {
        var failures = new OptionsFailures("Test");

        failures.Channel(new TestChannelOptions { ResultAckDelay = TimeSpan.FromMilliseconds(milliseconds) }, 1024 * 1024);

        failures.All.Should().HaveCount(valid ? 0 : 1);
    }

    [Fact]
    public void Localhost_WithPortZero_IsRefused()
    {
        var failures = new OptionsFailures("Test");

        failures.Server(new TestOptions { ListenAddress = "localhost", Port = 0 }, "files");

        failures.All.Should().ContainSingle().Which.Should().StartWith("Test:ListenAddress 'localhost' cannot be used with Port 0");
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("*", true)]
    [InlineData("localhost", true)]
    [InlineData("example.org", false)]
    [InlineData(null, false)]
    public void ListenAddress_IsAnIpAddressLocalhostOrStar(string? address, bool valid) =>
        OptionsFailures.IsListenAddress(address).Should().Be(valid);

    [Fact]
    public void Durations_Ranges_HostNames_AndAdminKeys_NameTheSetting()
    {
        var failures = new OptionsFailures("Test");

        failures.Positive(TimeSpan.Zero, "Idle");
        failures.Between(TimeSpan.FromMinutes(6), TimeSpan.FromMinutes(5), "Hello");
        failures.NotNegative(TimeSpan.FromSeconds(-1), "Ping", "zero disables pings");
        failures.Range(3, 4096, 8192, "MaxBytes");
        failures.HostName("not a host", "PublicHostName");
        failures.AdminKey("short");
        failures.AdminKey(null);
        failures.Positive(TimeSpan.FromSeconds(1), "Fine");

        failures.All.Should().Equal(
            "Test:Idle must be positive (it is 00:00:00).",
            "Test:Hello 00:06:00 must be greater than zero and at most 5 minutes.",
            "Test:Ping -00:00:01 must not be negative (zero disables pings).",
            "Test:MaxBytes 3 is outside 4096..8192.",
            "Test:PublicHostName 'not a host' is not a valid host name.",
            "Test:AdminApiKey must be at least 16 characters, or left unset to have one generated into the data folder.");
    }

    private sealed class TestOptions() : TcmServerOptions("data/test", 1234);

    private sealed class TestChannelOptions() : TcmChannelServerOptions("data/test", 1234);
}
