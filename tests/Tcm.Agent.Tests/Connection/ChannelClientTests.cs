namespace Tcm.Agent.Tests.Connection;

public sealed class ChannelClientTests
{
    [Theory]
    [InlineData("tcm-disabled: the server setting 'TCM communication' was switched off", "tcm-disabled", "the server setting 'TCM communication' was switched off")]
    [InlineData("terminated", "terminated", "")]
    [InlineData("", null, "")]
    [InlineData(null, null, "")]
    public void SplitReason_ReadsTheCodeOfACloseDescription(string? description, string? code, string detail) =>
        ChannelClient.SplitReason(description).Should().Be((code, detail));

    [Fact]
    public void FindHeader_IgnoresCase_AndTakesTheFirstValue()
    {
        var headers = new Dictionary<string, IEnumerable<string>> { ["x-tcm-refusal"] = ["tcm-disabled", "other"] };

        ChannelClient.FindHeader(headers, AgentTransport.RefusalHeader).Should().Be("tcm-disabled");
        ChannelClient.FindHeader(headers, "ETag").Should().BeNull();
        ChannelClient.FindHeader<string>(null, "ETag").Should().BeNull();
    }

    [Theory]
    [InlineData(CloseReasons.TcmDisabled, "the server setting 'TCM communication' is off")]
    [InlineData(CloseReasons.NotTargeted, "no communication profile with persistent connections targets this agent")]
    [InlineData(CloseReasons.ServerBusy, "the server is busy taking other agents' channels")]
    [InlineData("http-503", "the server refused the persistent connection with HTTP 503")]
    public void DescribeRefusal_InTheProductsWords(string code, string detail) =>
        ChannelClient.DescribeRefusal(code, 503).Should().Be(detail);

    [Theory]
    [InlineData("7", 7)]
    [InlineData("0", 0)]
    [InlineData("86400", 300)]
    public void ParseRetryAfter_ReadsDeltaSeconds_UpToFiveMinutes(string value, int seconds) =>
        ChannelClient.ParseRetryAfter(value).Should().Be(TimeSpan.FromSeconds(seconds));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("-3")]
    [InlineData("Wed, 21 Oct 2026 07:28:00 GMT")]
    public void ParseRetryAfter_WithoutDeltaSeconds_IsNoHint(string? value) =>
        ChannelClient.ParseRetryAfter(value).Should().BeNull();
}
