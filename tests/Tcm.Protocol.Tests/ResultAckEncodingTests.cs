using Tcm.Protocol;

namespace Tcm.Protocol.Tests;

public sealed class ResultAckEncodingTests
{
    [Theory]
    [InlineData("0123456789abcdef:fedcba9876543210")]
    [InlineData("agent:inventory-7")]
    [InlineData("")]
    [InlineData("a \"quoted\" key")]
    [InlineData("back\\slash")]
    [InlineData("line\nbreak")]
    [InlineData("<script>&'")]
    [InlineData("caf\u00e9:\u65e5\u672c")]
    [InlineData("emoji \U0001F600")]
    public void TheAck_IsByteForByteWhatTheSerializerWrites_AndDecodesToTheKey(string key)
    {
        var bytes = ResultAckEncoding.For(key);

        bytes.Should().Equal(MessageCodec.Encode(new AckMessage { Keys = [key] }));
        MessageCodec.Decode(bytes).Message.Should().BeOfType<AckMessage>().Which.Keys.Should().Equal(key);
    }
}
