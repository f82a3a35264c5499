using System.Text;
using System.Text.Json.Serialization.Metadata;

namespace Tcm.Protocol.Tests;

/// <summary>
/// The messages of every task are read on the serializer's plain path (a setter per property, no constructor arguments), and a message
/// missing a required field, or giving it as null, is still refused with a detail naming the kind and the field.
/// </summary>
public sealed class PerTaskMessageTests
{
    public static TheoryData<Type> PerTaskTypes => [typeof(TaskPushMessage), typeof(TaskStatusMessage), typeof(TaskResultMessage), typeof(AckMessage)];

    [Theory]
    [MemberData(nameof(PerTaskTypes))]
    public void PerTaskMessage_IsBuiltWithoutConstructorArguments(Type type)
    {
        var info = ProtocolJsonContext.Default.GetTypeInfo(type)!;

        info.CreateObject.Should().NotBeNull($"{type.Name} should be made by its parameterless constructor, then set");
        info.Properties.Where(property => property.AssociatedParameter is not null).Select(property => property.Name)
            .Should().BeEmpty($"a property of {type.Name} bound to a constructor argument puts every read on the parameterized path");
    }

    [Theory]
    [InlineData("""{"kind":"task.push","taskId":"t","command":"echo"}""", "task.push", "seq")]
    [InlineData("""{"kind":"task.push","seq":1,"command":"echo"}""", "task.push", "taskId")]
    [InlineData("""{"kind":"task.push","seq":1,"taskId":"t"}""", "task.push", "command")]
    [InlineData("""{"kind":"task.status","state":"running"}""", "task.status", "taskId")]
    [InlineData("""{"kind":"task.status","taskId":"t"}""", "task.status", "state")]
    [InlineData("""{"kind":"task.result","idempotencyKey":"a:t","state":"succeeded"}""", "task.result", "taskId")]
    [InlineData("""{"kind":"task.result","taskId":"t","state":"succeeded"}""", "task.result", "idempotencyKey")]
    [InlineData("""{"kind":"task.result","taskId":"t","idempotencyKey":"a:t"}""", "task.result", "state")]
    [InlineData("""{"kind":"inventory.request","requestId":"r"}""", "inventory.request", "seq")]
    public void Decode_MissingARequiredField_IsMalformedAndNamesIt(string json, string kind, string field)
    {
        var result = MessageCodec.Decode(Encoding.UTF8.GetBytes(json));

        result.Error.Should().Be(DecodeError.Malformed);
        result.Message.Should().BeNull();
        result.Detail.Should().Contain($"'{kind}' message is invalid").And.Contain($"'{field}'");
    }

    [Theory]
    [InlineData("""{"kind":"task.push","seq":1,"taskId":null,"command":"echo"}""", "task.push")]
    [InlineData("""{"kind":"task.push","seq":1,"taskId":"t","command":null}""", "task.push")]
    [InlineData("""{"kind":"task.result","taskId":"t","idempotencyKey":null,"state":"failed"}""", "task.result")]
    [InlineData("""{"kind":"task.status","taskId":null,"state":"running"}""", "task.status")]
    public void Decode_ARequiredFieldAsNull_IsMalformed(string json, string kind)
    {
        var result = MessageCodec.Decode(Encoding.UTF8.GetBytes(json));

        result.Error.Should().Be(DecodeError.Malformed);
        result.Detail.Should().Contain($"'{kind}' message is invalid");
    }

    [Fact]
    public void Decode_APushWithEveryField_ReadsEachAsSent()
    {
        var sent = new TaskPushMessage
        {
            Seq = 7, TaskId = "t7", Command = "echo", Name = "n", Parameters = new Dictionary<string, string> { ["text"] = "hi" },
            TimeoutSeconds = 9, CreatedAt = DateTimeOffset.UnixEpoch.AddSeconds(1), NotAfter = DateTimeOffset.UnixEpoch.AddDays(1), Urgent = true,
        };

        var read = (TaskPushMessage)MessageCodec.Decode(MessageCodec.Encode(sent)).Message!;

        read.Should().BeEquivalentTo(sent);
    }
}
