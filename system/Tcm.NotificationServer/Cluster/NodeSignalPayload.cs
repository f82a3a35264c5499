using System.Globalization;
using System.Text;

namespace Tcm.NotificationServer.Cluster;

/// <summary>
/// The text of one node signal: the sending node's name on the first line, then <c>agentId:seq</c> entries separated by commas. A
/// fan-out's signal is cut into as many payloads as it needs, each at most <see cref="MaxLength"/> characters (node names and agent
/// ids are ASCII, so characters are bytes), below PostgreSQL's 8,000-byte limit on a notification's payload.
/// </summary>
internal static class NodeSignalPayload
{
    /// <summary>The longest payload.</summary>
    public const int MaxLength = 7_900;

    /// <summary>The payloads that carry <paramref name="pushes"/> from <paramref name="node"/>.</summary>
    public static List<string> Encode(string node, IEnumerable<(string AgentId, long Seq)> pushes)
    {
        var payloads = new List<string>();
        var text = new StringBuilder(MaxLength);
        foreach (var (agentId, seq) in pushes)
        {
            var entry = string.Create(CultureInfo.InvariantCulture, $"{agentId}:{seq}");
            if (text.Length > 0 && text.Length + 1 + entry.Length > MaxLength)
            {
                payloads.Add(text.ToString());
                text.Clear();
            }

            text.Append(text.Length == 0 ? node + "\n" : ",").Append(entry);
        }

        if (text.Length > 0)
        {
            payloads.Add(text.ToString());
        }

        return payloads;
    }

    /// <summary>The sender and the pushes of one payload; false for text that is not a payload.</summary>
    public static bool TryDecode(string payload, out string node, out List<(string AgentId, long Seq)> pushes)
    {
        pushes = [];
        var newline = payload.IndexOf('\n', StringComparison.Ordinal);
        node = newline > 0 ? payload[..newline] : string.Empty;
        if (newline <= 0)
        {
            return false;
        }

        foreach (var entry in payload.AsSpan(newline + 1).Split(','))
        {
            var text = payload.AsSpan(newline + 1)[entry];
            var colon = text.LastIndexOf(':');
            if (colon <= 0 || !long.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
            {
                return false;
            }

            pushes.Add((text[..colon].ToString(), seq));
        }

        return true;
    }
}
