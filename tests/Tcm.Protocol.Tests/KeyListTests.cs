using System.Text;
using System.Text.Json;

namespace Tcm.Protocol.Tests;

/// <summary>
/// The idempotency keys of an acknowledgement (a push's <c>ackKeys</c>, an <c>ack</c>'s <c>keys</c>) are read and written by their own
/// converter (in the property's frame, so reading a push with keys makes no nested frame), with the same bytes out and the same list in
/// as the serializer's own list converter.
/// </summary>
public sealed class KeyListTests
{
    public static TheoryData<string?> Keys => new()
    {
        "agent-1:task-1",
        "a \"quoted\" key",
        "C:\\temp\\x",
        "one\ntwo\r\n\tthree",
        "<a href='x'>&amp;</a>",
        "h\u00e9llo \u4e16\u754c \ud83d\ude00",
        "\u0001\u001f",
        "",
        null,
    };

    [Fact]
    public void TheKeysOfAPush_AndOfAnAck_AreReadByTheirOwnConverter()
    {
        ProtocolJsonContext.Default.TaskPushMessage.Properties.Single(p => p.Name == "ackKeys").CustomConverter
            .Should().NotBeNull("the serializer's list converter reads the array in a nested frame of its own");
        ProtocolJsonContext.Default.PolicyPushMessage.Properties.Single(p => p.Name == "ackKeys").CustomConverter.Should().NotBeNull();
        ProtocolJsonContext.Default.AckMessage.Properties.Single(p => p.Name == "keys").CustomConverter.Should().NotBeNull();
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void AKey_IsWrittenByteForByteAsTheSerializersOwnConverterWritesIt_AndReadsBackAsSent(string? key)
    {
        IReadOnlyList<string> keys = ["first", key!, "last"];
        var push = Push(keys);
        var ack = new AckMessage { UpToSeq = 4, Keys = keys };

        var encodedPush = MessageCodec.Encode(push);
        var encodedAck = MessageCodec.Encode(ack);

        var own = JsonSerializer.Serialize(keys, SerializersOwn.Options);
        using (var document = JsonDocument.Parse(encodedPush))
        {
            document.RootElement.GetProperty("ackKeys").GetRawText().Should().Be(own);
        }

        using (var document = JsonDocument.Parse(encodedAck))
        {
            document.RootElement.GetProperty("keys").GetRawText().Should().Be(own);
        }

        var decodedPush = MessageCodec.Decode(encodedPush);
        decodedPush.Error.Should().Be(DecodeError.None, decodedPush.Detail);
        var back = decodedPush.Message.Should().BeOfType<TaskPushMessage>().Subject;
        back.AckKeys.Should().Equal(keys);
        back.Should().BeEquivalentTo(push);
        var decodedAck = MessageCodec.Decode(encodedAck);
        decodedAck.Error.Should().Be(DecodeError.None, decodedAck.Detail);
        decodedAck.Message.Should().BeOfType<AckMessage>().Which.Should().BeEquivalentTo(ack);
    }

    [Fact]
    public void AnEmptyList_AndNoList_AreWrittenAsBefore()
    {
        Encoding.UTF8.GetString(MessageCodec.Encode(Push([]))).Should().EndWith(",\"ackKeys\":[]}");
        Encoding.UTF8.GetString(MessageCodec.Encode(Push(null))).Should().NotContain("ackKeys");
        Encoding.UTF8.GetString(MessageCodec.Encode(new AckMessage { UpToSeq = 2 })).Should().Be("""{"kind":"ack","upToSeq":2}""");
    }

    [Fact]
    public void TheServersEncodings_ReadBackAsTheKeysTheyCarry()
    {
        IReadOnlyList<string> keys = ["a:1", "b \"2\"", "c\u00e9"];

        var ack = MessageCodec.Decode(ResultAckEncoding.For(keys));
        var push = MessageCodec.Decode(ResultAckEncoding.WithAckKeys(MessageCodec.Encode(Push(null)), keys));

        ack.Message.Should().BeOfType<AckMessage>().Which.Keys.Should().Equal(keys);
        push.Message.Should().BeOfType<TaskPushMessage>().Which.AckKeys.Should().Equal(keys);
    }

    [Theory]
    [InlineData("""["a"]""", new[] { "a" })]
    [InlineData("""["a\u0041","\u00e9"]""", new[] { "aA", "\u00e9" })]
    [InlineData("""[]""", new string[0])]
    [InlineData("""["a",null]""", new[] { "a", null })]
    public void Decode_ReadsTheListAsTheSerializersOwnConverter(string keysJson, string?[] expected)
    {
        var decoded = MessageCodec.Decode(PushJson(keysJson));
        var ack = MessageCodec.Decode(Encoding.UTF8.GetBytes($$"""{"kind":"ack","keys":{{keysJson}},"upToSeq":5}"""));

        decoded.Error.Should().Be(DecodeError.None, decoded.Detail);
        var push = decoded.Message.Should().BeOfType<TaskPushMessage>().Subject;
        push.AckKeys.Should().Equal(expected);
        push.TimeoutSeconds.Should().Be(7, "the push is read on after its keys");
        JsonSerializer.Deserialize<IReadOnlyList<string>>(keysJson, SerializersOwn.Options).Should().Equal(push.AckKeys);
        var read = ack.Message.Should().BeOfType<AckMessage>().Subject;
        read.Keys.Should().Equal(expected);
        read.UpToSeq.Should().Be(5, "the ack is read on after its keys");
    }

    [Fact]
    public void Decode_KeysGivenAsNull_HasNone()
    {
        MessageCodec.Decode(PushJson("null")).Message.Should().BeOfType<TaskPushMessage>().Which.AckKeys.Should().BeNull();
    }

    [Theory]
    [InlineData("""[1]""", "idempotency key 0 must be a string")]
    [InlineData("""["a",true]""", "idempotency key 1 must be a string")]
    [InlineData("""[{"b":"c"}]""", "idempotency key 0 must be a string")]
    [InlineData("""[["b"]]""", "idempotency key 0 must be a string")]
    [InlineData("""{"a":"b"}""", "idempotency keys must be a JSON array of strings")]
    [InlineData("\"a\"", "idempotency keys must be a JSON array of strings")]
    public void Decode_KeysThatAreNotAListOfStrings_IsMalformedAndSaysWhy(string keysJson, string why)
    {
        SerializersOwn.RefusePushAsItsOwnDoes<IReadOnlyList<string>>(PushJson(keysJson), keysJson, why);
    }

    private static TaskPushMessage Push(IReadOnlyList<string>? keys) => new()
    {
        Seq = 3,
        TaskId = "t-1",
        Command = "echo",
        Parameters = new Dictionary<string, string> { ["text"] = "x" },
        TimeoutSeconds = 9,
        CreatedAt = new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero),
        AckKeys = keys,
    };

    private static byte[] PushJson(string keysJson) =>
        Encoding.UTF8.GetBytes($$"""{"kind":"task.push","seq":1,"ackKeys":{{keysJson}},"taskId":"t","command":"echo","timeoutSeconds":7}""");
}
