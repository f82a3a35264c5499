using Tcm.Gateway.Relay;

namespace Tcm.Gateway.Tests;

public sealed class RelayErrorTests
{
    [Fact]
    public void EveryError_HasItsOwnMessage()
    {
        var messages = Enum.GetValues<RelayError>().Select(e => e.GetMessage()).ToList();
        messages.Should().OnlyHaveUniqueItems().And.NotContain(string.Empty);
    }

    [Fact]
    public void EveryError_HasItsOwnKebabCode_ForTheErrorCounter()
    {
        var codes = Enum.GetValues<RelayError>().Select(e => e.ToCode()).ToList();

        codes.Should().OnlyHaveUniqueItems().And.OnlyContain(c => System.Text.RegularExpressions.Regex.IsMatch(c, "^[a-z]+(-[a-z]+)*$"));
        RelayError.BackendUnreachable.ToCode().Should().Be("backend-unreachable");
        RelayError.TunnelIdle.ToCode().Should().Be("tunnel-idle");
    }
}
