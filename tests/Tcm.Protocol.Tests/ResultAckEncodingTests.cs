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

    // Acknowledgements of several results: in one ack, and riding on a push (PushMessage.AckKeys).
    private static readonly string[][] KeySets =
    [
        ["0123456789abcdef:fedcba9876543210"],
        ["agent:t-1", "agent:t-2", "agent:inventory-7"],
        ["plain", "a \"quoted\" key", "caf\u00e9:\u65e5\u672c"],
    ];

    public static TheoryData<int> Sets => new(Enumerable.Range(0, KeySets.Length));

    [Theory]
    [MemberData(nameof(Sets))]
    public void OneAck_WithEveryKey_IsByteForByteWhatTheSerializerWrites(int set)
    {
        var keys = KeySets[set];

        var bytes = ResultAckEncoding.For(keys);

        bytes.Should().Equal(MessageCodec.Encode(new AckMessage { Keys = keys }));
        MessageCodec.Decode(bytes).Message.Should().BeOfType<AckMessage>().Which.Keys.Should().Equal(keys);
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void KeysOnAFanOutsPush_AreWhatTheSerializerWritesForThePushWithThem_AndTheRestOfThePushIsUntouched(int set)
    {
        var keys = KeySets[set];
        var push = new TaskPushMessage
        {
            Seq = 1,
            TaskId = "t-981",
            Command = "echo",
            Parameters = new Dictionary<string, string> { ["text"] = "hello", ["ackKeys"] = "a parameter, not the member" },
            CreatedAt = DateTimeOffset.UnixEpoch,
        };
        var copy = new PushEncoding(push).For(42);

        var bytes = ResultAckEncoding.WithAckKeys(copy, keys);

        bytes.Should().Equal(MessageCodec.Encode(push with { Seq = 42, AckKeys = keys }));
        bytes.AsSpan(0, copy.Length - 1).ToArray().Should().Equal(copy[..^1]);
        var decoded = MessageCodec.Decode(bytes).Message.Should().BeOfType<TaskPushMessage>().Subject;
        decoded.Seq.Should().Be(42);
        decoded.AckKeys.Should().Equal(keys);
        decoded.Parameters.Should().ContainKey("ackKeys").WhoseValue.Should().Be("a parameter, not the member");
    }

    [Fact]
    public void APushWithoutKeys_HasNoAckKeysMember_SoAStoredPushIsWhatItWas()
    {
        var bytes = MessageCodec.Encode(new TaskPushMessage { Seq = 1, TaskId = "t", Command = "echo" });

        System.Text.Encoding.UTF8.GetString(bytes).Should().NotContain("ackKeys");
    }

    [Fact]
    public void NoKeys_OrSomethingThatIsNotAnObject_IsRefused()
    {
        var push = MessageCodec.Encode(new TaskPushMessage { Seq = 1, TaskId = "t", Command = "echo" });

        FluentActions.Invoking(() => ResultAckEncoding.WithAckKeys(push, [])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => ResultAckEncoding.For(Array.Empty<string>())).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => ResultAckEncoding.WithAckKeys("[1]"u8, ["k"])).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void KeysLength_IsTheArraysLengthOnTheWire()
    {
        string[] keys = ["a:1", "bb:22"];

        ResultAckEncoding.KeysLength(keys).Should().Be("[\"a:1\",\"bb:22\"]"u8.Length);
    }
}
