namespace Tcm.Gateway.KeepAlive;

/// <summary>
/// The agent's side of a relayed channel whose agent announced its keep-alive: the gateway answers the agent's WebSocket pings
/// itself and passes everything else through byte for byte. Reads are the agent-to-backend direction, writes the
/// backend-to-agent one (YARP's two copiers).
/// </summary>
/// <remarks>
/// Per ping, step by step:
/// <list type="number">
/// <item>Frame the agent's bytes (RFC 6455 5.2). Only a well-formed ping is taken: FIN set, no RSV bit, masked (a client's
/// frames are), a 7-bit length of at most 125, and no close from the agent before it. Anything else (data frames and their
/// fragments, pongs, closes, malformed frames) passes through unchanged, for the backend to judge.</item>
/// <item>Forward it when the backend has heard nothing from the agent for <see cref="RelayedKeepAlive.ForwardAfter"/>: the
/// backend's pong then answers it end to end, which is how the backend leg stays alive and the agent checks it.</item>
/// <item>Otherwise answer it: a pong with the ping's payload unmasked, written between two of the backend's frames (never inside
/// one, never after the backend's close); when the backend's bytes are mid-frame or being written, the ping is forwarded
/// instead.</item>
/// </list>
/// Every byte read from the agent, pings included, marks it heard; <see cref="TunnelWatch"/> ends the tunnel when it has not
/// been heard for two of its intervals.
/// </remarks>
internal sealed class AgentKeepAliveStream : Tcm.Protocol.CountingStream
{
    // why: a whole ping is 6 header bytes and at most 125 payload bytes; the rest is room for what follows it.
    private const int BufferSize = 256;
    private const int PingHeaderLength = 6;

    private readonly TimeProvider _time;
    private readonly long _forwardAfter;
    private readonly Action<KeepAliveOutcome>? _counted;
    private readonly byte[] _buffer = new byte[BufferSize];
    private readonly FrameCursor _toAgent = new();
    private readonly SemaphoreSlim _writing = new(1, 1);
    private int _start;
    private int _end;
    private long _passing;
    private bool _unframeable;
    private bool _agentClosed;
    private bool _ended;
    private long _lastHeard;
    private long _lastToBackend;

    /// <summary>
    /// The agent's side of a tunnel over <paramref name="inner"/>, which it does not own (Kestrel ends it with the request); the
    /// agent's bytes, pings and pongs included, are counted to <paramref name="onRead"/> and <paramref name="onWrite"/>.
    /// </summary>
    public AgentKeepAliveStream(Stream inner, TimeSpan forwardAfter, TimeProvider time, Action<KeepAliveOutcome>? counted = null, Action<int>? onRead = null, Action<int>? onWrite = null)
        : base(inner, onRead, onWrite, ownsInner: false)
    {
        _time = time;
        _forwardAfter = (long)(forwardAfter.TotalSeconds * time.TimestampFrequency);
        _counted = counted;
        _lastHeard = _lastToBackend = time.GetTimestamp();
    }

    /// <summary>When a byte last came from the agent (or the tunnel opened), in <see cref="TimeProvider.GetTimestamp"/> units.</summary>
    public long LastHeard => Volatile.Read(ref _lastHeard);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            // :: Step 1: a frame being passed through goes on, from what is buffered, then straight from the agent
            if (_unframeable || _passing > 0)
            {
                var limit = _unframeable ? buffer.Length : (int)Math.Min(buffer.Length, _passing);
                int count;
                if (_start < _end)
                {
                    count = Math.Min(limit, _end - _start);
                    _buffer.AsMemory(_start, count).CopyTo(buffer);
                    _start += count;
                    if (!_unframeable && count < limit && !_ended)
                    {
                        count += await ReadRestOfFrameAsync(buffer[count..limit], cancellationToken).ConfigureAwait(false);
                    }
                }
                else if (_ended)
                {
                    return 0;
                }
                else
                {
                    count = await base.ReadAsync(buffer[..limit], cancellationToken).ConfigureAwait(false);
                    if (count == 0 && !buffer.IsEmpty)
                    {
                        _ended = true;
                        return 0;
                    }

                    Heard(count);
                }

                if (!_unframeable)
                {
                    _passing -= count;
                }

                if (count > 0)
                {
                    Volatile.Write(ref _lastToBackend, _time.GetTimestamp());
                }

                return count;
            }

            // :: Step 2: at a frame boundary, frame what came
            var read = FrameHeader.TryRead(_buffer.AsSpan(_start, _end - _start), out var header);
            if (read == FrameRead.Unframeable)
            {
                _unframeable = true;
                continue;
            }

            if (read == FrameRead.Complete)
            {
                var ping = header.Opcode == FrameHeader.Ping && header.FinalWithoutExtensions && header.HeaderLength == PingHeaderLength && !_agentClosed;
                if (!ping || _end - _start >= header.FrameLength)
                {
                    if (!ping || !await TryAnswerAsync((int)header.PayloadLength, cancellationToken).ConfigureAwait(false))
                    {
                        _passing = header.FrameLength;
                        _agentClosed |= header.Opcode == FrameHeader.Close;
                        if (ping)
                        {
                            _counted?.Invoke(KeepAliveOutcome.Forwarded);
                        }
                    }

                    continue;
                }
            }

            // :: Step 3: more of the header or of the ping is needed
            if (_ended)
            {
                // why: the agent's stream ended inside a frame; what came is passed on as it is.
                _unframeable = true;
                continue;
            }

            if (_end == _buffer.Length)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                (_start, _end) = (0, _end - _start);
            }

            var got = await base.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (got == 0)
            {
                _ended = true;
            }

            Heard(got);
            _end += got;
        }
    }

    // why: a message longer than the buffer had its head passed on from the buffer and its rest by the next read: two writes to the
    // backend (two HTTP/2 DATA frames, two flushes) per message from the agent. The rest of a frame the agent started is on its way,
    // and the backend cannot use the head without it, so it is read into the same read.
    private async ValueTask<int> ReadRestOfFrameAsync(Memory<byte> rest, CancellationToken cancellationToken)
    {
        var count = await base.ReadAsync(rest, cancellationToken).ConfigureAwait(false);
        if (count == 0)
        {
            _ended = true;
        }

        Heard(count);
        return count;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _toAgent.Advance(buffer.Span);
            await base.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writing.Release();
        }
    }

    // why: a synchronous read or write would pass by the framing; YARP's copiers are asynchronous.
    public override int Read(Span<byte> buffer) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Write(ReadOnlySpan<byte> buffer) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>Answers the whole ping at the buffer's start with a pong, unless it is the backend's turn to hear one or a pong cannot go now.</summary>
    private async ValueTask<bool> TryAnswerAsync(int payloadLength, CancellationToken cancellationToken)
    {
        if (_time.GetTimestamp() - Volatile.Read(ref _lastToBackend) >= _forwardAfter || !_writing.Wait(0))
        {
            return false;
        }

        try
        {
            if (!_toAgent.AtFrameBoundary || _toAgent.Closed)
            {
                return false;
            }

            // why: the pong is built where the ping lies: its 2-byte header over the ping's masking key, then the payload unmasked.
            var pong = _start + PingHeaderLength - 2;
            Unmask(_buffer.AsSpan(_start + 2, 4 + payloadLength));
            _buffer[pong] = 0x80 | FrameHeader.Pong;
            _buffer[pong + 1] = (byte)payloadLength;
            _start += PingHeaderLength + payloadLength;
            await base.WriteAsync(_buffer.AsMemory(pong, 2 + payloadLength), cancellationToken).ConfigureAwait(false);
            _counted?.Invoke(KeepAliveOutcome.Answered);
            return true;
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>Unmasks a payload in place: <paramref name="keyAndPayload"/> is the 4-byte masking key, then the payload.</summary>
    private static void Unmask(Span<byte> keyAndPayload)
    {
        for (var i = 4; i < keyAndPayload.Length; i++)
        {
            keyAndPayload[i] ^= keyAndPayload[(i - 4) & 3];
        }
    }

    private void Heard(int bytes)
    {
        if (bytes > 0)
        {
            Volatile.Write(ref _lastHeard, _time.GetTimestamp());
        }
    }
}

/// <summary>What became of an agent's ping at the gateway.</summary>
internal enum KeepAliveOutcome
{
    /// <summary>The gateway answered it.</summary>
    Answered,

    /// <summary>It went on to the backend, whose pong answers it.</summary>
    Forwarded,

    /// <summary>Not a ping: the agent was silent for two of its intervals and its tunnel was ended.</summary>
    TimedOut,
}
