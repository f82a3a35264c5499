using System.Buffers.Binary;

namespace Tcm.Gateway.KeepAlive;

/// <summary>What reading a WebSocket frame header from the bytes at hand gave.</summary>
internal enum FrameRead
{
    /// <summary>The header is complete.</summary>
    Complete,

    /// <summary>More bytes are needed.</summary>
    NeedMore,

    /// <summary>A 64-bit payload length with its top bit set (RFC 6455 5.2): nothing after it can be framed.</summary>
    Unframeable,
}

/// <summary>One WebSocket frame header (RFC 6455 5.2), as the gateway reads it from the bytes it relays.</summary>
/// <param name="First">The first byte: FIN, RSV1-3 and the opcode.</param>
/// <param name="Masked">Whether a masking key follows the length.</param>
/// <param name="HeaderLength">Bytes of the header: 2, the extended length (0, 2 or 8), the masking key (0 or 4).</param>
/// <param name="PayloadLength">Bytes of the payload.</param>
internal readonly record struct FrameHeader(byte First, bool Masked, int HeaderLength, long PayloadLength)
{
    /// <summary>The longest header: 2 bytes, an 8-byte length and a 4-byte masking key.</summary>
    public const int MaxLength = 14;

    /// <summary>Opcode of a close frame.</summary>
    public const int Close = 0x8;

    /// <summary>Opcode of a ping frame.</summary>
    public const int Ping = 0x9;

    /// <summary>Opcode of a pong frame.</summary>
    public const int Pong = 0xA;

    /// <summary>The frame's opcode.</summary>
    public int Opcode => First & 0x0F;

    /// <summary>Whether FIN is set and RSV1-3 are clear.</summary>
    public bool FinalWithoutExtensions => (First & 0xF0) == 0x80;

    /// <summary>Header and payload.</summary>
    public long FrameLength => HeaderLength + PayloadLength;

    /// <summary>Reads the header at the start of <paramref name="bytes"/>.</summary>
    public static FrameRead TryRead(ReadOnlySpan<byte> bytes, out FrameHeader header)
    {
        header = default;
        if (bytes.Length < 2)
        {
            return FrameRead.NeedMore;
        }

        var length7 = bytes[1] & 0x7F;
        var masked = (bytes[1] & 0x80) != 0;
        var extended = length7 switch { 126 => 2, 127 => 8, _ => 0 };
        var headerLength = 2 + extended + (masked ? 4 : 0);
        if (bytes.Length < headerLength)
        {
            return FrameRead.NeedMore;
        }

        long payload = length7;
        if (extended == 2)
        {
            payload = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
        }
        else if (extended == 8)
        {
            var wide = BinaryPrimitives.ReadUInt64BigEndian(bytes[2..]);
            // why: the frame's end must fit a long with the header added; RFC 6455 forbids the top bit anyway.
            if (wide > long.MaxValue - MaxLength)
            {
                return FrameRead.Unframeable;
            }

            payload = (long)wide;
        }

        header = new FrameHeader(bytes[0], masked, headerLength, payload);
        return FrameRead.Complete;
    }
}

/// <summary>
/// Follows the frames of one direction of a relayed WebSocket through writes of any size, so the gateway knows when it may put a
/// frame of its own between two of them (a control frame may go between the fragments of a message, never inside a frame).
/// </summary>
internal sealed class FrameCursor
{
    private readonly byte[] _header = new byte[FrameHeader.MaxLength];
    private int _headerBytes;
    private long _payloadLeft;

    /// <summary>Whether everything that passed ended a frame, so a frame of the gateway's own may follow.</summary>
    public bool AtFrameBoundary => !Lost && _headerBytes == 0 && _payloadLeft == 0;

    /// <summary>Whether a close frame passed: nothing of the gateway's own may follow it.</summary>
    public bool Closed { get; private set; }

    /// <summary>Whether the bytes could not be framed (<see cref="FrameRead.Unframeable"/>): the direction is never added to again.</summary>
    public bool Lost { get; private set; }

    /// <summary>Moves past <paramref name="bytes"/>, the next bytes of the direction.</summary>
    public void Advance(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty && !Lost)
        {
            if (_payloadLeft > 0)
            {
                var skipped = (int)Math.Min(_payloadLeft, bytes.Length);
                _payloadLeft -= skipped;
                bytes = bytes[skipped..];
                continue;
            }

            FrameRead read;
            FrameHeader header;
            if (_headerBytes == 0 && (read = FrameHeader.TryRead(bytes, out header)) != FrameRead.NeedMore)
            {
                bytes = read == FrameRead.Complete ? bytes[header.HeaderLength..] : bytes;
            }
            else
            {
                // why: a header split across writes is gathered byte by byte; it is at most 14 bytes.
                _header[_headerBytes++] = bytes[0];
                bytes = bytes[1..];
                read = FrameHeader.TryRead(_header.AsSpan(0, _headerBytes), out header);
                if (read == FrameRead.NeedMore)
                {
                    continue;
                }

                _headerBytes = 0;
            }

            if (read == FrameRead.Unframeable)
            {
                Lost = true;
                return;
            }

            _payloadLeft = header.PayloadLength;
            Closed |= header.Opcode == FrameHeader.Close;
        }
    }
}
