using System.Net.WebSockets;
using System.Text;
using Tcm.Channels.Framing;
using Tcm.Protocol;

namespace Tcm.Channels.Tests;

public sealed class ChannelFaultTests
{
    [Theory]
    [InlineData(DecodeError.TooLarge, WebSocketCloseStatus.MessageTooBig, CloseReasons.TooLarge)]
    [InlineData(DecodeError.Malformed, WebSocketCloseStatus.InvalidPayloadData, CloseReasons.Malformed)]
    [InlineData(DecodeError.UnknownKind, WebSocketCloseStatus.PolicyViolation, CloseReasons.UnknownKind)]
    public void EveryDecodeError_HasOneCloseStatusAndCode(DecodeError error, WebSocketCloseStatus status, string code)
    {
        var fault = ChannelFault.Undecodable(new DecodeResult(null, error, "why"));
        (fault.Status, fault.Code, fault.Description).Should().Be((status, code, $"{code}: why"));
    }

    [Fact]
    public void EveryDecodeError_IsInTheTable() =>
        Enum.GetValues<DecodeError>().Where(e => e != DecodeError.None).Select(e => ChannelFault.Undecodable(new DecodeResult(null, e, null)).Status).Should().OnlyHaveUniqueItems();

    [Fact]
    public void Hello_OfAnotherVersionAgentOrRole_IsRefusedWithItsReason()
    {
        var good = new HelloMessage { ProtocolVersion = ProtocolConstants.Version, AgentId = "a1", Role = ChannelRole.TaskServer };
        ChannelFault.CheckHello(good, "a1", ChannelRole.TaskServer, "wrong role").Should().BeNull();
        ChannelFault.CheckHello(good with { ProtocolVersion = 99 }, "a1", ChannelRole.TaskServer, "x")!.Value.Code.Should().Be(CloseReasons.UnsupportedVersion);
        ChannelFault.CheckHello(good, "a2", ChannelRole.TaskServer, "x")!.Value.Code.Should().Be(CloseReasons.BadCertificate);
        ChannelFault.CheckHello(good, "a1", ChannelRole.NotificationServer, "wrong role")!.Value.Should().Be(
            new ChannelFault(WebSocketCloseStatus.PolicyViolation, CloseReasons.ProtocolViolation, "wrong role"));
    }
}

public sealed class CloseDescriptionTests
{
    [Fact]
    public void Format_IsCodeColonDetail() => CloseDescription.Format("tcm-disabled", "off").Should().Be("tcm-disabled: off");

    [Fact]
    public void Format_TruncatesTo123Utf8Bytes_OnACharacterBoundary()
    {
        var text = CloseDescription.Format("malformed-message", new string('é', 200));
        Encoding.UTF8.GetByteCount(text).Should().BeLessThanOrEqualTo(123);
        text.Should().StartWith("malformed-message: é");
        Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text)).Should().Be(text);
    }
}
