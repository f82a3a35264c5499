using System.Text;
using Tcm.Protocol;

namespace Tcm.Protocol.Tests;

/// <summary>
/// Expiry, urgency and cancel on the wire beside agents and servers that predate them: what they send and receive stays as it was unless
/// both ends say they know the new fields and kind.
/// </summary>
public sealed class TaskCancelCompatibilityTests
{
    [Fact]
    public void AKindTheDecoderDoesNotKnow_IsUnknownKind_WhichIsWhyTaskCancelGoesOnlyToAgentsThatAcceptIt()
    {
        // An agent of today decodes task.cancel on the path every kind it does not know takes: refused, and its channel closes 1008.
        var tomorrow = Encoding.UTF8.GetBytes("""{"kind":"task.stop","taskId":"t1","reason":"cancelled by an administrator"}""");

        var decoded = MessageCodec.Decode(tomorrow);

        decoded.Error.Should().Be(DecodeError.UnknownKind);
        decoded.Detail.Should().Contain("task.stop");
    }

    [Fact]
    public void HelloOfAnAgentOfToday_SaysNothingOfCancel_SoItIsNotSentOne()
    {
        var today = Encoding.UTF8.GetBytes("""{"kind":"hello","protocolVersion":1,"agentId":"a1","lastReceivedSeq":0,"route":"direct"}""");

        var hello = (HelloMessage)MessageCodec.Decode(today).Message!;

        hello.AcceptsTaskCancel.Should().BeFalse();
    }

    [Fact]
    public void TaskPushWithoutNotAfterOrUrgency_IsEncodedAsBefore()
    {
        var json = Encoding.UTF8.GetString(MessageCodec.Encode(new TaskPushMessage { Seq = 1, TaskId = "t1", Command = "echo" }));

        json.Should().NotContain("notAfter").And.NotContain("urgent");
    }

    [Fact]
    public void HelloThatAcceptsCancel_IsReadByAServerOfToday_AsAnUnknownPropertyItIgnores()
    {
        var json = Encoding.UTF8.GetString(MessageCodec.Encode(new HelloMessage { ProtocolVersion = 1, AgentId = "a1", AcceptsTaskCancel = true }));

        json.Should().Contain("\"acceptsTaskCancel\":true");
        MessageCodec.Decode(Encoding.UTF8.GetBytes(json.Replace("acceptsTaskCancel", "somethingNew", StringComparison.Ordinal))).IsSuccess
            .Should().BeTrue("receivers ignore unknown properties");
    }
}
