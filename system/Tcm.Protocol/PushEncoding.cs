using System.Globalization;
using System.Text.Json;

namespace Tcm.Protocol;

/// <summary>
/// A push encoded once for a fan-out: its UTF-8 JSON with the value of <see cref="PushMessage.Seq"/> cut out, so each agent's copy is
/// the bytes before it, that agent's own sequence number and the bytes after it: the bytes <see cref="MessageCodec.Encode(Message)"/>
/// gives for the message with that sequence number, without serialising the message again for every agent.
/// </summary>
public sealed class PushEncoding
{
    private static readonly byte[] SeqName = "seq"u8.ToArray();
    private readonly byte[] _json;
    private readonly int _seqStart;
    private readonly int _seqLength;

    /// <summary>Encodes <paramref name="message"/> (its own <see cref="PushMessage.Seq"/> is replaced in every copy).</summary>
    public PushEncoding(PushMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        Message = message;
        _json = MessageCodec.Encode(message);
        (_seqStart, _seqLength) = FindSeq(_json);
    }

    /// <summary>The message this encodes.</summary>
    public PushMessage Message { get; }

    /// <summary>The message's UTF-8 JSON with <paramref name="seq"/> as its sequence number.</summary>
    public byte[] For(long seq)
    {
        Span<byte> digits = stackalloc byte[20];
        if (!seq.TryFormat(digits, out var length, default, CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"sequence number {seq} did not format");
        }

        var copy = new byte[_json.Length - _seqLength + length];
        _json.AsSpan(0, _seqStart).CopyTo(copy);
        digits[..length].CopyTo(copy.AsSpan(_seqStart));
        _json.AsSpan(_seqStart + _seqLength).CopyTo(copy.AsSpan(_seqStart + length));
        return copy;
    }

    // why: a reader, not a search for the text: only the top-level property is the sequence number; a nested one (a task parameter, a
    // policy setting) of the same name is the message's content.
    private static (int Start, int Length) FindSeq(byte[] json)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isSeq = reader.ValueTextEquals(SeqName);
            reader.Read();
            if (isSeq && reader.TokenType == JsonTokenType.Number)
            {
                return ((int)reader.TokenStartIndex, reader.ValueSpan.Length);
            }

            reader.Skip();
        }

        throw new InvalidOperationException("a push's JSON has no top-level 'seq' number");
    }
}
