using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Tcm.Protocol.Tests;

/// <summary>The serializer's own converters (reflection, web defaults): what a converter of the protocol's own must match.</summary>
internal static class SerializersOwn
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    /// <summary>
    /// A push whose member is <paramref name="memberJson"/> is refused as malformed, saying <paramref name="why"/>, as the serializer's own
    /// converter of <typeparamref name="T"/> refuses the member.
    /// </summary>
    public static void RefusePushAsItsOwnDoes<T>(byte[] push, string memberJson, string why)
    {
        var decoded = MessageCodec.Decode(push);

        decoded.Error.Should().Be(DecodeError.Malformed);
        decoded.Message.Should().BeNull();
        decoded.Detail.Should().StartWith("'task.push' message is invalid: ").And.Contain(why);
        var act = () => JsonSerializer.Deserialize<T>(memberJson, Options);
        act.Should().Throw<JsonException>("the serializer's own converter refuses it too");
    }
}
