using System.Net.WebSockets;
using Tcm.Protocol;

namespace Tcm.Channels.Framing;

/// <summary>
/// Why one side closes a channel because of what the other sent: the WebSocket close status, the <see cref="CloseReasons"/> code and a
/// detail for people. This type is the one table from a receive or decode error to the close status, used by the Notification Server,
/// the Task Server and the agent alike.
/// </summary>
/// <param name="Status">The WebSocket close status.</param>
/// <param name="Code">The <see cref="CloseReasons"/> code, first in the close description.</param>
/// <param name="Detail">What was wrong, for people.</param>
public readonly record struct ChannelFault(WebSocketCloseStatus Status, string Code, string Detail)
{
    /// <summary>The close description: <c>code: detail</c>, at most 123 UTF-8 bytes.</summary>
    public string Description => CloseDescription.Format(Code, Detail);

    /// <summary>A binary frame: the channel carries UTF-8 JSON text only.</summary>
    public static ChannelFault BinaryNotSupported { get; } =
        new(WebSocketCloseStatus.InvalidMessageType, CloseReasons.BinaryNotSupported, "the channel carries UTF-8 JSON text messages only");

    /// <summary>A message grew past <paramref name="maxMessageBytes"/> while it was read.</summary>
    public static ChannelFault TooLarge(int maxMessageBytes) =>
        new(WebSocketCloseStatus.MessageTooBig, CloseReasons.TooLarge, $"a message exceeded the maximum of {maxMessageBytes} bytes");

    /// <summary>A message that arrived whole but did not decode: too large 1009, malformed 1007, unknown kind 1008.</summary>
    public static ChannelFault Undecodable(DecodeResult decoded) => decoded.Error switch
    {
        DecodeError.TooLarge => new(WebSocketCloseStatus.MessageTooBig, CloseReasons.TooLarge, decoded.Detail ?? ""),
        DecodeError.Malformed => new(WebSocketCloseStatus.InvalidPayloadData, CloseReasons.Malformed, decoded.Detail ?? ""),
        DecodeError.UnknownKind => new(WebSocketCloseStatus.PolicyViolation, CloseReasons.UnknownKind, decoded.Detail ?? ""),
        DecodeError.None => throw new ArgumentOutOfRangeException(nameof(decoded), "not an error"),
        _ => throw new ArgumentOutOfRangeException(nameof(decoded), decoded.Error, null),
    };

    /// <summary>A message the receiving side does not accept in this state (a second hello, a server's kind from an agent).</summary>
    public static ChannelFault ProtocolViolation(string detail) =>
        new(WebSocketCloseStatus.PolicyViolation, CloseReasons.ProtocolViolation, detail);

    /// <summary>
    /// Checks a server's first message: the protocol version, the agent the certificate names and the role this server serves.
    /// Null when the hello is good.
    /// </summary>
    public static ChannelFault? CheckHello(HelloMessage hello, string agentId, ChannelRole role, string wrongRoleDetail)
    {
        if (hello.ProtocolVersion != ProtocolConstants.Version)
        {
            return new(WebSocketCloseStatus.PolicyViolation, CloseReasons.UnsupportedVersion,
                $"protocol version {hello.ProtocolVersion} is not supported; this server speaks {ProtocolConstants.Version}");
        }

        if (!string.Equals(hello.AgentId, agentId, StringComparison.Ordinal))
        {
            return new(WebSocketCloseStatus.PolicyViolation, CloseReasons.BadCertificate, $"hello names agent '{hello.AgentId}' but the certificate is for '{agentId}'");
        }

        return hello.Role != role ? ProtocolViolation(wrongRoleDetail) : null;
    }
}
