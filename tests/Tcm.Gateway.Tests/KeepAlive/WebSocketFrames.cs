using System.Threading.Channels;

namespace Tcm.Gateway.Tests.KeepAlive;

/// <summary>WebSocket frames as an agent (masked) or a server (unmasked) puts them on the wire, for the keep-alive tests.</summary>
internal static class WebSocketFrames
{
    public static readonly byte[] Key = [0x12, 0x34, 0x56, 0x78];

    /// <summary>A frame from the agent: masked with <see cref="Key"/> unless <paramref name="masked"/> is false.</summary>
    public static byte[] FromAgent(int opcode, byte[] payload, bool fin = true, bool masked = true, byte rsv = 0, bool longLength = false) =>
        Frame(opcode, payload, fin, masked, rsv, longLength);

    /// <summary>A frame from the server: unmasked.</summary>
    public static byte[] FromServer(int opcode, byte[] payload, bool fin = true) => Frame(opcode, payload, fin, masked: false, rsv: 0, longLength: false);

    public static byte[] Ping(string payload = "12345678") => FromAgent(0x9, System.Text.Encoding.ASCII.GetBytes(payload));

    public static byte[] Pong(string payload = "12345678") => FromServer(0xA, System.Text.Encoding.ASCII.GetBytes(payload));

    private static byte[] Frame(int opcode, byte[] payload, bool fin, bool masked, byte rsv, bool longLength)
    {
        var header = new List<byte> { (byte)((fin ? 0x80 : 0) | rsv | opcode) };
        var maskBit = masked ? 0x80 : 0;
        if (payload.Length < 126 && !longLength)
        {
            header.Add((byte)(maskBit | payload.Length));
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            header.Add((byte)(maskBit | 126));
            header.Add((byte)(payload.Length >> 8));
            header.Add((byte)payload.Length);
        }
        else
        {
            header.Add((byte)(maskBit | 127));
            header.AddRange(BitConverter.GetBytes((ulong)payload.Length).Reverse());
        }

        var body = payload.ToArray();
        if (masked)
        {
            header.AddRange(Key);
            for (var i = 0; i < body.Length; i++)
            {
                body[i] ^= Key[i % 4];
            }
        }

        return [.. header, .. body];
    }
}

/// <summary>
/// The agent's side of a tunnel in memory: reads hand out the chunks the test sends, split as the test splits them (a zero-byte
/// read waits for the next chunk); writes are kept.
/// </summary>
internal sealed class ScriptedStream : Stream
{
    private readonly Channel<byte[]> _chunks = Channel.CreateUnbounded<byte[]>();
    private readonly MemoryStream _written = new();
    private byte[] _current = [];
    private int _offset;

    public byte[] Written
    {
        get
        {
            lock (_written)
            {
                return _written.ToArray();
            }
        }
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Sends <paramref name="bytes"/> from the agent in chunks of <paramref name="chunk"/> bytes (all at once by default).</summary>
    public void Send(byte[] bytes, int chunk = int.MaxValue)
    {
        for (var i = 0; i < bytes.Length; i += chunk)
        {
            _chunks.Writer.TryWrite(bytes[i..Math.Min(bytes.Length, i + chunk)]);
        }
    }

    /// <summary>Ends the agent's side.</summary>
    public void End() => _chunks.Writer.TryComplete();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_offset == _current.Length)
        {
            if (!await _chunks.Reader.WaitToReadAsync(cancellationToken))
            {
                return 0;
            }

            if (buffer.IsEmpty)
            {
                return 0;
            }

            _current = await _chunks.Reader.ReadAsync(cancellationToken);
            _offset = 0;
        }

        var count = Math.Min(buffer.Length, _current.Length - _offset);
        _current.AsMemory(_offset, count).CopyTo(buffer);
        _offset += count;
        return count;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        lock (_written)
        {
            _written.Write(buffer.Span);
        }

        return ValueTask.CompletedTask;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
