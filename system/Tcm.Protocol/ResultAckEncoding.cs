using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tcm.Protocol;

/// <summary>
/// A server's acknowledgements of stored results (<see cref="AckMessage.Keys"/>, or <see cref="PushMessage.AckKeys"/> on a push), written
/// straight into one array: the bytes <see cref="MessageCodec.Encode(Message)"/> gives for them, without the serializer's per-call
/// state. A server acknowledges every result, so the result path pays for it thousands of times a second in a fan-out.
/// </summary>
public static class ResultAckEncoding
{
    private static readonly byte[] Prefix = "{\"kind\":\"ack\",\"keys\":"u8.ToArray();
    private static readonly byte[] AckKeysMember = ",\"ackKeys\":"u8.ToArray();

    /// <summary>The UTF-8 JSON of <c>ack</c> with <see cref="AckMessage.Keys"/> = [<paramref name="idempotencyKey"/>].</summary>
    public static byte[] For(string idempotencyKey)
    {
        ArgumentNullException.ThrowIfNull(idempotencyKey);
        return For([idempotencyKey]);
    }

    /// <summary>The UTF-8 JSON of <c>ack</c> with <see cref="AckMessage.Keys"/> = <paramref name="idempotencyKeys"/> (at least one).</summary>
    public static byte[] For(IReadOnlyList<string> idempotencyKeys)
    {
        var json = new byte[Prefix.Length + KeysLength(idempotencyKeys) + 1];
        Prefix.CopyTo(json, 0);
        if (!TryWriteKeys(idempotencyKeys, json.AsSpan(Prefix.Length)))
        {
            return MessageCodec.Encode(new AckMessage { Keys = [.. idempotencyKeys] });
        }

        json[^1] = (byte)'}';
        return json;
    }

    /// <summary>
    /// <paramref name="push"/> (the UTF-8 JSON of a push, as <see cref="PushEncoding"/> or <see cref="MessageCodec"/> wrote it) with
    /// <see cref="PushMessage.AckKeys"/> = <paramref name="idempotencyKeys"/> (at least one) added as its last member, the bytes before
    /// it copied as they are: a fan-out's push is not serialised again for the agent whose acknowledgements ride on it.
    /// </summary>
    public static byte[] WithAckKeys(ReadOnlySpan<byte> push, IReadOnlyList<string> idempotencyKeys)
    {
        if (push.Length < 2 || push[^1] != (byte)'}')
        {
            throw new ArgumentException("a push's JSON must be an object written without trailing white space", nameof(push));
        }

        var body = push[..^1];
        var json = new byte[body.Length + AckKeysMember.Length + KeysLength(idempotencyKeys) + 1];
        body.CopyTo(json);
        AckKeysMember.CopyTo(json, body.Length);
        var keys = json.AsSpan(body.Length + AckKeysMember.Length, json.Length - body.Length - AckKeysMember.Length - 1);
        if (!TryWriteKeys(idempotencyKeys, keys))
        {
            var escaped = JsonSerializer.SerializeToUtf8Bytes(idempotencyKeys, ProtocolJsonContext.Default.IReadOnlyListString);
            json = new byte[body.Length + AckKeysMember.Length + escaped.Length + 1];
            body.CopyTo(json);
            AckKeysMember.CopyTo(json, body.Length);
            escaped.CopyTo(json, body.Length + AckKeysMember.Length);
        }

        json[^1] = (byte)'}';
        return json;
    }

    /// <summary>How many bytes <paramref name="idempotencyKeys"/> take as a JSON array of strings that need no escaping.</summary>
    public static int KeysLength(IReadOnlyList<string> idempotencyKeys)
    {
        ArgumentNullException.ThrowIfNull(idempotencyKeys);
        if (idempotencyKeys.Count == 0)
        {
            throw new ArgumentException("at least one key is acknowledged", nameof(idempotencyKeys));
        }

        // "[" and "]", two quotes per key, a comma between two.
        var length = 2 + (3 * idempotencyKeys.Count) - 1;
        foreach (var key in idempotencyKeys)
        {
            ArgumentNullException.ThrowIfNull(key, nameof(idempotencyKeys));
            length += Encoding.UTF8.GetByteCount(key);
        }

        return length;
    }

    // why: a key the serializer would escape (quotes, control or non-ASCII characters) makes the caller go through the serializer, so
    // the bytes on the wire are the same either way.
    private static bool TryWriteKeys(IReadOnlyList<string> keys, Span<byte> destination)
    {
        destination[0] = (byte)'[';
        var at = 1;
        for (var i = 0; i < keys.Count; i++)
        {
            if (i > 0)
            {
                destination[at++] = (byte)',';
            }

            destination[at++] = (byte)'"';
            var written = Encoding.UTF8.GetBytes(keys[i], destination[at..]);
            if (JavaScriptEncoder.Default.FindFirstCharacterToEncodeUtf8(destination.Slice(at, written)) >= 0)
            {
                return false;
            }

            at += written;
            destination[at++] = (byte)'"';
        }

        destination[at] = (byte)']';
        return true;
    }
}
