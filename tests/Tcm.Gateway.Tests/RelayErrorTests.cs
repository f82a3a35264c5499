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

    [Theory]
    [InlineData(0, true, false, false, 0)]
    [InlineData((int)StreamCopyResult.InputError, true, false, false, (int)RelayError.TunnelAgent)]
    [InlineData((int)StreamCopyResult.InputError, false, false, false, (int)RelayError.TunnelBackend)]
    [InlineData((int)StreamCopyResult.OutputError, true, false, false, (int)RelayError.TunnelBackend)]
    [InlineData((int)StreamCopyResult.Canceled, true, true, false, (int)RelayError.TunnelIdle)]
    [InlineData((int)StreamCopyResult.Canceled, false, false, true, (int)RelayError.Canceled)]
    public void TunnelEnd_IsClassifiedByTheDirectionThatEndedFirst(int first, bool agentSide, bool idle, bool canceled, int expected) =>
        TunnelRelay.Classify((StreamCopyResult)first, agentSide, idle, canceled).Should().Be((RelayError)expected);

    [Fact]
    public void AcceptKey_IsTheRfc6455Example() =>
        TunnelRelay.AcceptKey("dGhlIHNhbXBsZSBub25jZQ==").Should().Be("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
