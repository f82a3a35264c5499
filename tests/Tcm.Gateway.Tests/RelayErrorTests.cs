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
}
