using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Tcm.Protocol;

/// <summary>Why a frame could not be decoded. The channel core (<c>ChannelFault.Undecodable</c>) maps each to a close status and a <see cref="CloseReasons"/> code.</summary>
public enum DecodeError
{
    None,
    /// <summary>More bytes than the maximum message size.</summary>
    TooLarge,
    /// <summary>Not JSON, not an object, no <c>kind</c>, or fields of the wrong type or missing.</summary>
    Malformed,
    /// <summary>A <c>kind</c> this protocol version does not know.</summary>
    UnknownKind,
}

/// <summary>The outcome of <see cref="MessageCodec.Decode"/>: a message, or an error with a human-readable detail.</summary>
public readonly record struct DecodeResult(Message? Message, DecodeError Error, string? Detail)
{
    public bool IsSuccess => Error == DecodeError.None;
}

/// <summary>Encodes and decodes channel messages (UTF-8 JSON, one message per WebSocket message).</summary>
public static class MessageCodec
{
    private static ReadOnlySpan<byte> KindName => "kind"u8;
    private static ReadOnlySpan<byte> QuotedKindName => "\"kind\""u8;

    /// <summary>Writes <paramref name="message"/> as UTF-8 JSON.</summary>
    public static void Encode(Message message, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Write(Encode(message));
    }

    /// <summary>Returns <paramref name="message"/> as UTF-8 JSON bytes, <c>kind</c> first.</summary>
    public static byte[] Encode(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return MessageTypes.TryEncode(message) ?? EncodePolymorphic(message);
    }

    /// <summary>The serializer's polymorphic write of <paramref name="message"/>: the bytes <see cref="Encode(Message)"/> gives.</summary>
    internal static byte[] EncodePolymorphic(Message message) =>
        JsonSerializer.SerializeToUtf8Bytes(message, ProtocolJsonContext.Default.Message);

    /// <summary>Decodes one message; never throws for bad input.</summary>
    public static DecodeResult Decode(ReadOnlySpan<byte> utf8Json, int maxMessageBytes = ProtocolConstants.DefaultMaxMessageBytes)
    {
        if (utf8Json.Length > maxMessageBytes)
        {
            return new(null, DecodeError.TooLarge, $"message of {utf8Json.Length} bytes exceeds the maximum of {maxMessageBytes} bytes");
        }

        return TryDecodeByKind(utf8Json) is { } message ? new(message, DecodeError.None, null) : DecodePolymorphic(utf8Json);
    }

    /// <summary>
    /// The serializer's polymorphic read of <paramref name="utf8Json"/> (<c>kind</c> anywhere), and every refusal's detail: the outcome
    /// <see cref="Decode"/> gives within the size limit.
    /// </summary>
    internal static DecodeResult DecodePolymorphic(ReadOnlySpan<byte> utf8Json)
    {
        try
        {
            var message = JsonSerializer.Deserialize(utf8Json, ProtocolJsonContext.Default.Message);
            return message is null
                ? new(null, DecodeError.Malformed, "message is JSON null; expected an object with a 'kind'")
                : new(message, DecodeError.None, null);
        }
        catch (JsonException ex)
        {
            return Classify(utf8Json, ex);
        }
        catch (NotSupportedException ex)
        {
            // Thrown by the polymorphic resolver for abstract kinds or shapes it cannot bind.
            return Classify(utf8Json, ex);
        }
    }

    /// <summary>
    /// The message read as the type its <c>kind</c> names, or null when the polymorphic read must decide: not an object, no <c>kind</c>
    /// or not a string or outside the set, a second <c>kind</c> or a <c>$</c> property (metadata the polymorphic read refuses) that
    /// cannot be ruled out, or the type's own read failing. The type's read skips <c>kind</c> as a member it does not have.
    /// </summary>
    internal static Message? TryDecodeByKind(ReadOnlySpan<byte> utf8Json)
    {
        JsonTypeInfo? typeInfo = null;
        try
        {
            var reader = new Utf8JsonReader(utf8Json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            // why a walk to it: we write it first, but a peer may put it anywhere.
            while (typeInfo is null && reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isKind = reader.ValueTextEquals(KindName);
                reader.Read();
                if (isKind)
                {
                    typeInfo = reader.TokenType == JsonTokenType.String ? MessageTypes.Find(ref reader) : null;
                    if (typeInfo is null)
                    {
                        return null;
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }

        if (typeInfo is null || !OneKindAndNoMetadata(utf8Json))
        {
            return null;
        }

        try
        {
            return (Message?)JsonSerializer.Deserialize(utf8Json, typeInfo);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            return null;
        }
    }

    // why bytes, not a second walk of the object: a walk would cost what the polymorphic read's own look-ahead costs. Only a \u escape
    // can spell a letter of "kind" or a '$', so without one every property named kind is the literal "kind" and every $ property starts
    // with the literal "$. A match anywhere, in a nested object or a string, sends the message to the polymorphic read, which decides as
    // it always did.
    private static bool OneKindAndNoMetadata(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.IndexOf("\\u"u8) >= 0 || utf8Json.IndexOf("\"$"u8) >= 0)
        {
            return false;
        }

        var first = utf8Json.IndexOf(QuotedKindName);
        return first >= 0 && utf8Json[(first + QuotedKindName.Length)..].IndexOf(QuotedKindName) < 0;
    }

    private static DecodeResult Classify(ReadOnlySpan<byte> utf8Json, Exception ex)
    {
        // The serializer's message says where; this says what, in the protocol's words.
        string? kind = null;
        try
        {
            var validator = new Utf8JsonReader(utf8Json);
            while (validator.Read())
            {
            }

            var reader = new Utf8JsonReader(utf8Json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return new(null, DecodeError.Malformed, "message is not a JSON object");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isKind = reader.ValueTextEquals("kind"u8);
                reader.Read();
                if (isKind)
                {
                    kind = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    break;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
            return new(null, DecodeError.Malformed, $"message is not valid JSON: {ex.Message}");
        }

        if (kind is null)
        {
            return new(null, DecodeError.Malformed, "message has no string 'kind' property");
        }

        if (!MessageKinds.All.Contains(kind))
        {
            return new(null, DecodeError.UnknownKind, $"unknown message kind '{kind}'; this server speaks protocol version {ProtocolConstants.Version}: {string.Join(", ", MessageKinds.All)}");
        }

        return new(null, DecodeError.Malformed, $"'{kind}' message is invalid: {ex.Message}");
    }
}
