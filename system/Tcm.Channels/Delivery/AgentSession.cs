using System.Collections.Frozen;
using System.Net.WebSockets;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Tcm.Channels.Framing;
using Tcm.Protocol;

namespace Tcm.Channels.Delivery;

/// <summary>
/// One agent's channel on a server that pushes to it (the Notification Server's and the Task Server's sessions): a
/// <see cref="ServerChannel"/> for <typeparamref name="TAgent"/> that the <see cref="DeliveryEngine"/> may push through once it is ready.
/// How a channel ends (fault, vanished peer, protocol error, failed send) is logged here, the same way on both servers.
/// </summary>
/// <typeparam name="TAgent">The server's record of the agent.</typeparam>
public abstract partial class AgentSession<TAgent> : ServerChannel, IPushChannel
{
    // The wire name of every message type, from the protocol's own discriminators, for refusals that name what came.
    private static readonly FrozenDictionary<Type, string> Kinds = ProtocolJsonContext.Default.Message.PolymorphismOptions!.DerivedTypes
        .ToFrozenDictionary(derived => derived.DerivedType, derived => (string)derived.TypeDiscriminator!);

    // ,"ackKeys": before the keys' array, when they ride on a push.
    private const int AckKeysMemberLength = 11;

    private readonly string _agentId;
    private readonly int _maxMessageBytes;
    private readonly long _resultAckDelayMs;
    private readonly int _maxResultsInFlight;
    private HeldResultAcks? _heldAcks;
    private ResultsInFlight? _resultsInFlight;
    private Exception? _storeFailure;

    /// <summary>A channel of <paramref name="agent"/> (id <paramref name="agentId"/>) over an accepted <paramref name="socket"/>, waiting for its hello.</summary>
    protected AgentSession(WebSocket socket, TAgent agent, string agentId, string connectionId, ServerChannelSettings settings, ILogger logger)
        : base(socket, connectionId, settings)
    {
        Agent = agent;
        _agentId = agentId;
        _maxMessageBytes = settings.MaxMessageBytes;
        _resultAckDelayMs = (long)settings.ResultAckDelay.TotalMilliseconds;
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MaxResultsInFlight, 1);
        _maxResultsInFlight = settings.MaxResultsInFlight;
        Logger = logger;
    }

    /// <summary>The agent at the other end.</summary>
    public TAgent Agent { get; }

    /// <inheritdoc/>
    public bool Ready { get; set; }

    /// <summary>The connection's token (the request's): cancelled when the peer goes away or the server stops.</summary>
    protected CancellationToken Aborted { get; private set; }

    /// <summary>The server's channel log.</summary>
    protected ILogger Logger { get; }

    /// <summary>Results of this channel handed to the store and not yet committed (see <see cref="AcceptResultAsync"/>).</summary>
    internal ResultsInFlight? ResultsInFlight => Volatile.Read(ref _resultsInFlight);

    /// <summary>
    /// Reads and handles messages until the channel closes, waits for the results it read to be stored, then <see cref="OnEnded"/>.
    /// Never throws for a peer that goes away; a store that failed otherwise is thrown from here, as when the read loop awaited it.
    /// </summary>
    public async Task RunAsync(CancellationToken aborted)
    {
        Aborted = aborted;
        try
        {
            await ReceiveLoopAsync(aborted).ConfigureAwait(false);

            // why: a result's write runs once queued; the request (and the socket) ends after it, not while it may still acknowledge.
            await WhenHandledAsync().ConfigureAwait(false);
        }
        finally
        {
            OnEnded();
        }

        if (Volatile.Read(ref _storeFailure) is { } failure and not (IOException or ObjectDisposedException or OperationCanceledException))
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    /// <inheritdoc/>
    protected override Task WhenHandledAsync() => ResultsInFlight?.WhenNoneAsync() ?? Task.CompletedTask;

    /// <summary>
    /// A result read from the channel, handed to the store: <paramref name="storing"/> has queued its write already (so the store sees
    /// the agent's messages in the order they came, a carried acknowledgement applied with it), and the session reads on while it
    /// commits. Once it committed, the result is acknowledged (<see cref="AcknowledgeResult"/>); a result the store refuses
    /// (<see cref="ArgumentException"/>) gets a non-fatal <c>malformed-message</c> error that says why; any other failure ends the
    /// channel. At most <see cref="ServerChannelSettings.MaxResultsInFlight"/> are in flight: the returned task, which the read loop
    /// awaits, completes once there is room for the next.
    /// </summary>
    protected ValueTask AcceptResultAsync(Task<ResultReceipt> storing)
    {
        ArgumentNullException.ThrowIfNull(storing);
        if (storing.IsCompleted)
        {
            // why: a refusal often completes at once, and then needs no tracking.
            Stored(storing);
            return ValueTask.CompletedTask;
        }

        // why: made by the first result that waits for its commit (only the read loop gets here): an idle channel keeps nothing for it.
        var inFlight = Volatile.Read(ref _resultsInFlight);
        if (inFlight is null)
        {
            inFlight = new ResultsInFlight(_maxResultsInFlight);
            Volatile.Write(ref _resultsInFlight, inFlight);
        }

        var room = inFlight.AddAsync();
        storing.ContinueWith(
            static (stored, state) =>
            {
                var (session, inFlight) = ((AgentSession<TAgent>, ResultsInFlight))state!;
                try
                {
                    session.Stored(stored);
                }
                finally
                {
                    inFlight.Remove();
                }
            },
            (this, inFlight),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return room.IsCompleted ? ValueTask.CompletedTask : new ValueTask(room);
    }

    private void Stored(Task<ResultReceipt> stored)
    {
        if (stored.IsCompletedSuccessfully)
        {
            AcknowledgeResult(stored.Result.IdempotencyKey);
        }
        else if (stored.Exception?.InnerException is ArgumentException refused)
        {
            Send(new ErrorMessage { Code = CloseReasons.Malformed, Detail = refused.Message, Fatal = false });
        }
        else
        {
            // why: as when the read loop awaited the store: the channel ends (the agent sends its unacknowledged results again after its
            // next hello), and the failure is thrown from the session's run.
            Interlocked.CompareExchange(ref _storeFailure, stored.Exception?.InnerException ?? new OperationCanceledException(), null);
            Abort();
        }
    }

    /// <summary>The channel has closed (or was aborted): release what the session holds.</summary>
    protected abstract void OnEnded();

    /// <summary>The <c>welcome</c> that answers the agent's hello on this channel, from the server <paramref name="serverName"/>.</summary>
    protected WelcomeMessage Welcome(string serverName) => new()
    {
        ProtocolVersion = ProtocolConstants.Version,
        AgentId = _agentId,
        ServerName = serverName,
        ConnectionId = ConnectionId,
        MaxMessageBytes = _maxMessageBytes,
    };

    /// <summary>
    /// Whether this session holds its agent's result acknowledgements (docs/protocol.md section 7): set from the agent's
    /// <paramref name="hello"/> before the session starts, only while the server's delay is above zero.
    /// </summary>
    protected void AgreeOnResultAcks(HelloMessage hello)
    {
        ArgumentNullException.ThrowIfNull(hello);
        Volatile.Write(ref _heldAcks, hello.AcceptsHeldResultAcks && _resultAckDelayMs > 0 ? new HeldResultAcks(_resultAckDelayMs) : null);
    }

    /// <summary>
    /// A result with <paramref name="idempotencyKey"/> is durably stored: an <c>ack</c> goes out at once, or, for an agent that accepts
    /// held acknowledgements, the key waits for the next push (or the delay, or the cap) to carry it with the others held.
    /// </summary>
    protected void AcknowledgeResult(string idempotencyKey)
    {
        if (Volatile.Read(ref _heldAcks) is not { } held)
        {
            SendPayload(ResultAckEncoding.For(idempotencyKey));
        }
        else if (held.Hold(idempotencyKey, Time.GetUtcNow().ToUnixTimeMilliseconds()) is { } full)
        {
            SendPayload(ResultAckEncoding.For(full));
        }
    }

    /// <inheritdoc/>
    public void SendPush(byte[] utf8Json)
    {
        if (Volatile.Read(ref _heldAcks)?.Take() is { } keys)
        {
            // why: the keys ride on the push unless that would make it larger than the agent reads; then they go just before it.
            if ((long)utf8Json.Length + AckKeysMemberLength + ResultAckEncoding.KeysLength(keys) <= _maxMessageBytes)
            {
                utf8Json = ResultAckEncoding.WithAckKeys(utf8Json, keys);
            }
            else
            {
                SendPayload(ResultAckEncoding.For(keys), offload: true);
            }
        }

        SendPayload(utf8Json, offload: true);
    }

    /// <summary>The heartbeat: held acknowledgements whose oldest waited the delay go out in one <c>ack</c>.</summary>
    protected override void OnHeartbeat(long nowMs)
    {
        if (Volatile.Read(ref _heldAcks)?.TakeDue(nowMs) is { } keys)
        {
            SendPayload(ResultAckEncoding.For(keys), offload: true);
        }
    }

    /// <summary>The server closes the channel: what it holds goes before the close, so the agent need not send those results again.</summary>
    protected override void OnClosing()
    {
        if (Volatile.Read(ref _heldAcks)?.Take() is { } keys)
        {
            SendPayload(ResultAckEncoding.For(keys), offload: true);
        }
    }

    /// <summary>Closes the channel for a first message that is not a <c>hello</c>.</summary>
    protected void RefuseBeforeHello(Message message) =>
        Fault(ChannelFault.ProtocolViolation($"the first message must be 'hello', not '{KindOf(message)}'"));

    /// <summary>Closes the channel for a message no agent sends once welcomed: a second <c>hello</c>, or one of the server's own kinds.</summary>
    protected void RefuseUnexpected(Message message) => Fault(ChannelFault.ProtocolViolation(message is HelloMessage
        ? "a second 'hello' on the same channel"
        : $"'{KindOf(message)}' is sent by the server, not by an agent"));

    /// <inheritdoc/>
    protected override void OnFaulted(ChannelFault fault) => Log.Faulted(Logger, ConnectionId, _agentId, fault.Code, fault.Detail);

    /// <inheritdoc/>
    protected override void OnVanished(string error) => Log.PeerVanished(Logger, ConnectionId, _agentId, error);

    /// <inheritdoc/>
    protected override void OnProtocolError(string detail) => Log.ProtocolError(Logger, ConnectionId, _agentId, detail);

    /// <inheritdoc/>
    protected override void OnSendFailed(string error) => Log.SendFailed(Logger, ConnectionId, _agentId, error);

    private static string KindOf(Message message) => Kinds.GetValueOrDefault(message.GetType(), message.GetType().Name);

    private static partial class Log
    {
        [LoggerMessage(EventId = 301, Level = LogLevel.Debug, Message = "Channel {ConnectionId} of agent {AgentId} ended without a close handshake ({Error})")]
        public static partial void PeerVanished(ILogger logger, string connectionId, string agentId, string error);

        [LoggerMessage(EventId = 302, Level = LogLevel.Information, Message = "Channel {ConnectionId} of agent {AgentId} broke the WebSocket protocol: {Detail}")]
        public static partial void ProtocolError(ILogger logger, string connectionId, string agentId, string detail);

        [LoggerMessage(EventId = 303, Level = LogLevel.Warning, Message = "Channel {ConnectionId} of agent {AgentId} is closed: {Code}: {Detail}")]
        public static partial void Faulted(ILogger logger, string connectionId, string agentId, string code, string detail);

        [LoggerMessage(EventId = 305, Level = LogLevel.Debug, Message = "Channel {ConnectionId} of agent {AgentId}: a send failed ({Error}); the connection is aborted")]
        public static partial void SendFailed(ILogger logger, string connectionId, string agentId, string error);
    }
}
