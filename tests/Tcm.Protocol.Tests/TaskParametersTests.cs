using System.Text;
using System.Text.Json;

namespace Tcm.Protocol.Tests;

/// <summary>
/// A task push's parameters are read and written by the push's own converter (in the property's frame, so reading a push makes no
/// nested frame), with the same bytes out and the same map in as the serializer's own dictionary converter.
/// </summary>
public sealed class TaskParametersTests
{
    public static TheoryData<string, string?> Values => new()
    {
        { "text", "plain" },
        { "quote\"d", "a \"quoted\" value" },
        { "back\\slash", "C:\\temp\\x" },
        { "lines", "one\ntwo\r\n\tthree" },
        { "html", "<a href='x'>&amp;</a>" },
        { "unicode", "h\u00e9llo \u4e16\u754c \ud83d\ude00" },
        { "control", "\u0001\u001f" },
        { "", "" },
        { "empty-value", "" },
        { "null-value", null },
    };

    [Fact]
    public void ThePushesParameters_AreReadByTheirOwnConverter()
    {
        var parameters = ProtocolJsonContext.Default.TaskPushMessage.Properties.Single(p => p.Name == "parameters");

        parameters.CustomConverter.Should().NotBeNull("the serializer's dictionary converter reads the object in a nested frame of its own");
    }

    [Theory]
    [MemberData(nameof(Values))]
    public void AParameter_IsWrittenByteForByteAsTheSerializersOwnConverterWritesIt_AndReadsBackAsSent(string name, string? value)
    {
        var map = new Dictionary<string, string> { ["first"] = "1", [name] = value!, ["last"] = "z" };
        var push = Push(map);

        var encoded = MessageCodec.Encode(push);

        using var document = JsonDocument.Parse(encoded);
        var written = document.RootElement.GetProperty("parameters").GetRawText();
        written.Should().Be(JsonSerializer.Serialize<IReadOnlyDictionary<string, string>>(map, SerializersOwn.Options));
        var decoded = MessageCodec.Decode(encoded);
        decoded.Error.Should().Be(DecodeError.None, decoded.Detail);
        var back = decoded.Message.Should().BeOfType<TaskPushMessage>().Subject;
        back.Parameters.Should().Equal(map);
        back.Should().BeEquivalentTo(push, "the fields after the parameters are read as sent too");
    }

    [Fact]
    public void AnEmptyMap_AndNoMap_AreWrittenAsBefore()
    {
        Encoding.UTF8.GetString(MessageCodec.Encode(Push(new Dictionary<string, string>()))).Should().Contain("\"parameters\":{}");
        Encoding.UTF8.GetString(MessageCodec.Encode(Push(null))).Should().NotContain("parameters");
    }

    [Theory]
    [InlineData("""{"a":"1","a":"2"}""", "a", "2")]
    [InlineData("""{"a\u0041":"\u00e9"}""", "aA", "\u00e9")]
    [InlineData("""{"a":null}""", "a", null)]
    public void Decode_ReadsTheMapAsTheSerializersOwnConverter(string parametersJson, string name, string? value)
    {
        var decoded = MessageCodec.Decode(PushJson(parametersJson));

        decoded.Error.Should().Be(DecodeError.None, decoded.Detail);
        var push = decoded.Message.Should().BeOfType<TaskPushMessage>().Subject;
        push.Parameters.Should().ContainSingle().Which.Should().Be(new KeyValuePair<string, string>(name, value!));
        push.TimeoutSeconds.Should().Be(7, "the push is read on after its parameters");
        JsonSerializer.Deserialize<IReadOnlyDictionary<string, string>>(parametersJson, SerializersOwn.Options).Should().Equal(push.Parameters);
    }

    [Fact]
    public void Decode_ParametersGivenAsNull_HasNone()
    {
        var decoded = MessageCodec.Decode(PushJson("null"));

        decoded.Message.Should().BeOfType<TaskPushMessage>().Which.Parameters.Should().BeNull();
    }

    [Theory]
    [InlineData("""{"a":1}""", "task parameter 'a' must be a string")]
    [InlineData("""{"a":true}""", "task parameter 'a' must be a string")]
    [InlineData("""{"a":{"b":"c"}}""", "task parameter 'a' must be a string")]
    [InlineData("""{"a":["b"]}""", "task parameter 'a' must be a string")]
    [InlineData("""["a"]""", "task parameters must be a JSON object of strings")]
    [InlineData("\"a\"", "task parameters must be a JSON object of strings")]
    public void Decode_ParametersThatAreNotAMapOfStrings_IsMalformedAndSaysWhy(string parametersJson, string why)
    {
        SerializersOwn.RefusePushAsItsOwnDoes<IReadOnlyDictionary<string, string>>(PushJson(parametersJson), parametersJson, why);
    }

    private static TaskPushMessage Push(IReadOnlyDictionary<string, string>? parameters) => new()
    {
        Seq = 3,
        TaskId = "t-1",
        Command = "echo",
        Name = "n",
        Parameters = parameters,
        TimeoutSeconds = 9,
        CreatedAt = new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero),
        Urgent = true,
    };

    private static byte[] PushJson(string parametersJson) =>
        Encoding.UTF8.GetBytes($$"""{"kind":"task.push","seq":1,"taskId":"t","command":"echo","parameters":{{parametersJson}},"timeoutSeconds":7}""");
}
