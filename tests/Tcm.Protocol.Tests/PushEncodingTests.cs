using Tcm.Protocol;

namespace Tcm.Protocol.Tests;

public sealed class PushEncodingTests
{
    public static TheoryData<PushMessage> EveryPushKind() => new()
    {
        new TaskPushMessage
        {
            Seq = 0, TaskId = "t1", Command = "echo", Name = "seq", TimeoutSeconds = 5, CreatedAt = DateTimeOffset.UnixEpoch,
            Parameters = new Dictionary<string, string> { ["seq"] = "7", ["text"] = "\"seq\":7" },
        },
        new PolicyPushMessage { Seq = 123456, Policy = MessageCodecTests.SamplePolicy() },
        new InventoryRequestMessage { Seq = 1, RequestId = "r1", Classes = ["seq"], CreatedAt = DateTimeOffset.UnixEpoch },
    };

    [Theory]
    [MemberData(nameof(EveryPushKind))]
    public void EachCopy_IsTheEncodingOfTheMessageWithItsOwnSeq_AndNestedSeqsAreLeftAlone(PushMessage message)
    {
        var encoding = new PushEncoding(message);

        foreach (var seq in new long[] { 1, 9, 10, 99_999, long.MaxValue })
        {
            encoding.For(seq).Should().Equal(MessageCodec.Encode(message with { Seq = seq }), $"seq {seq}");
            MessageCodec.Decode(encoding.For(seq)).Message.Should().BeEquivalentTo(message with { Seq = seq }, o => o.RespectingRuntimeTypes());
        }
    }
}
