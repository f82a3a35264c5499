using Tcm.NotificationServer.Cluster;

namespace Tcm.NotificationServer.Tests.Cluster;

public sealed class NodeSignalPayloadTests
{
    [Fact]
    public void Pushes_RoundTrip_WithTheSendingNode()
    {
        (string, long)[] pushes = [("0123456789abcdef0123456789abcdef", 1), ("fedcba9876543210fedcba9876543210", 42)];

        var payload = NodeSignalPayload.Encode("node-a:4443", pushes).Should().ContainSingle().Subject;

        NodeSignalPayload.TryDecode(payload, out var node, out var decoded).Should().BeTrue();
        node.Should().Be("node-a:4443");
        decoded.Should().Equal(pushes);
    }

    [Fact]
    public void AFanOutTooLargeForOneNotification_IsCutIntoPayloadsUnderTheLimit_LosingNone()
    {
        var pushes = Enumerable.Range(0, 2_000).Select(i => (Convert.ToHexStringLower(BitConverter.GetBytes((long)i)) + new string('0', 16), (long)i + 1_000_000)).ToList();

        var payloads = NodeSignalPayload.Encode("node-a", pushes);

        payloads.Should().HaveCountGreaterThan(1).And.OnlyContain(p => p.Length <= NodeSignalPayload.MaxLength && System.Text.Encoding.UTF8.GetByteCount(p) < 8_000);
        payloads.SelectMany(p => NodeSignalPayload.TryDecode(p, out var node, out var decoded) && node == "node-a" ? decoded : []).Should().Equal(pushes);
    }

    [Fact]
    public void NothingStored_SendsNothing() => NodeSignalPayload.Encode("node-a", []).Should().BeEmpty();

    [Theory]
    [InlineData("")]
    [InlineData("no node line")]
    [InlineData("\nabc:1")]
    [InlineData("node-a\nabc")]
    [InlineData("node-a\nabc:x")]
    [InlineData("node-a\nabc:-1")]
    [InlineData("node-a\nabc:1,")]
    public void TextThatIsNotAPayload_IsRefused(string text) => NodeSignalPayload.TryDecode(text, out _, out _).Should().BeFalse();
}
