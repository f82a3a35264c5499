using System.Text;

namespace Tcm.NotificationServer.Channel;

/// <summary>Formats WebSocket close descriptions as <c>&lt;code&gt;: &lt;detail&gt;</c>, at most 123 UTF-8 bytes.</summary>
internal static class CloseDescription
{
    /// <summary>The most bytes RFC 6455 allows in a close reason.</summary>
    public const int MaxBytes = 123;

    public static string Format(string code, string detail)
    {
        var text = string.IsNullOrEmpty(detail) ? code : $"{code}: {detail}";
        if (Encoding.UTF8.GetByteCount(text) <= MaxBytes)
        {
            return text;
        }

        // why: cut on a character boundary so the description stays valid UTF-8.
        var length = text.Length;
        while (length > 0 && Encoding.UTF8.GetByteCount(text.AsSpan(0, length)) > MaxBytes)
        {
            length--;
        }

        if (length > 0 && char.IsHighSurrogate(text[length - 1]))
        {
            length--;
        }

        return text[..length];
    }
}
