using System.Buffers;
using System.Text.Json;

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
    /// <summary>Writes <paramref name="message"/> as UTF-8 JSON.</summary>
    public static void Encode(Message message, IBufferWriter<byte> output)
    {
        using var writer = new Utf8JsonWriter(output);
        JsonSerializer.Serialize(writer, message, ProtocolJsonContext.Default.Message);
    }

    /// <summary>Returns <paramref name="message"/> as UTF-8 JSON bytes.</summary>
    public static byte[] Encode(Message message) =>
        JsonSerializer.SerializeToUtf8Bytes(message, ProtocolJsonContext.Default.Message);

    /// <summary>Decodes one message; never throws for bad input.</summary>
    public static DecodeResult Decode(ReadOnlySpan<byte> utf8Json, int maxMessageBytes = ProtocolConstants.DefaultMaxMessageBytes)
    {
        if (utf8Json.Length > maxMessageBytes)
        {
            return new(null, DecodeError.TooLarge, $"message of {utf8Json.Length} bytes exceeds the maximum of {maxMessageBytes} bytes");
        }

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
