using System.Text;

namespace Tcm.Channels.Framing;

/// <summary>Formats WebSocket close descriptions as <c>&lt;code&gt;: &lt;detail&gt;</c>, at most 123 UTF-8 bytes.</summary>
public static class CloseDescription
{
    /// <summary>The most bytes RFC 6455 allows in a close reason.</summary>
    public const int MaxBytes = 123;

    /// <summary><c>code: detail</c> (or <c>code</c> alone when there is no detail), cut to <see cref="MaxBytes"/>.</summary>
    public static string Format(string code, string detail) =>
        Truncate(string.IsNullOrEmpty(detail) ? code : $"{code}: {detail}");

    /// <summary>Cuts <paramref name="text"/> to at most <see cref="MaxBytes"/> UTF-8 bytes on a character boundary.</summary>
    public static string Truncate(string text)
    {
        if (Encoding.UTF8.GetByteCount(text) <= MaxBytes)
        {
            return text;
        }

        // why: cut on a character boundary so the description stays valid UTF-8.
        var length = Math.Min(text.Length, MaxBytes);
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
