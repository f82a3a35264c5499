using System.Text;
using System.Text.Encodings.Web;

namespace Tcm.Protocol;

/// <summary>
/// A server's acknowledgement of one stored result (<see cref="AckMessage.Keys"/> with one key), written straight into one array: the
/// bytes <see cref="MessageCodec.Encode(Message)"/> gives for it, without the serializer's per-call state. A server sends one per task,
/// so the result path pays for it thousands of times a second in a fan-out.
/// </summary>
public static class ResultAckEncoding
{
    private static readonly byte[] Prefix = "{\"kind\":\"ack\",\"keys\":[\""u8.ToArray();
    private static readonly byte[] Suffix = "\"]}"u8.ToArray();

    /// <summary>The UTF-8 JSON of <c>ack</c> with <see cref="AckMessage.Keys"/> = [<paramref name="idempotencyKey"/>].</summary>
    public static byte[] For(string idempotencyKey)
    {
        ArgumentNullException.ThrowIfNull(idempotencyKey);
        var length = Encoding.UTF8.GetByteCount(idempotencyKey);
        var json = new byte[Prefix.Length + length + Suffix.Length];
        var key = json.AsSpan(Prefix.Length, length);
        Encoding.UTF8.GetBytes(idempotencyKey, key);

        // why: a key the serializer would escape (quotes, control or non-ASCII characters) goes through the serializer, so the bytes
        // on the wire are the same either way.
        if (JavaScriptEncoder.Default.FindFirstCharacterToEncodeUtf8(key) >= 0)
        {
            return MessageCodec.Encode(new AckMessage { Keys = [idempotencyKey] });
        }

        Prefix.CopyTo(json, 0);
        Suffix.CopyTo(json, Prefix.Length + length);
        return json;
    }
}
