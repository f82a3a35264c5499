using System.Net.Sockets;
using System.Threading.Channels;
using Npgsql;

namespace Tcm.NotificationServer.Cluster;

/// <summary>
/// The node signal of nodes sharing one PostgreSQL database: <c>NOTIFY</c> on channel <see cref="ChannelName"/> after the pushes
/// committed, <c>LISTEN</c> on one dedicated connection held for the node's life; changes to what each node keeps in memory (settings, keys,
/// site servers, agents: <see cref="NodeChange"/>) travel the same way on channel <see cref="ChangesChannelName"/>.
/// <para>
/// :: Step 1: the listening connection opens and <c>LISTEN</c>s (retried with back-off, 0.5 s doubling to 30 s, while the database
/// cannot be reached). :: Step 2: each notification of another node goes to the receiver (<see cref="NodeCatchUp"/>), off the connection's thread.
/// :: Step 3: when the connection drops, signals sent meanwhile are lost, so once it listens again every agent is brought up to what
/// the store holds. Sending runs beside it: what fan-outs stored is gathered, cut into payloads (<see cref="NodeSignalPayload"/>) and
/// sent in one batch over a pooled connection, again after a back-off while that fails.
/// </para>
/// </summary>
internal sealed partial class PostgresNodeSignal : INodeSignal, IAsyncDisposable
{
    /// <summary>The PostgreSQL notification channel the nodes share.</summary>
    public const string ChannelName = "tcm_pushes";

    /// <summary>The PostgreSQL notification channel of <see cref="NodeChange"/>s.</summary>
    public const string ChangesChannelName = "tcm_changes";

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(30);

    private readonly NpgsqlDataSource _dataSource;
    private readonly NodeIdentity _node;
    private readonly INodeSignalReceiver _catchUp;
    private readonly INodeChangeReceiver _changes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<IReadOnlyList<(string AgentId, long Seq)>> _outgoing =
        System.Threading.Channels.Channel.CreateUnbounded<IReadOnlyList<(string AgentId, long Seq)>>(new UnboundedChannelOptions { SingleReader = true });

    // why: a null entry means "signals may have been missed": bring every agent up to the store.
    private readonly Channel<string?> _incoming = System.Threading.Channels.Channel.CreateUnbounded<string?>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Channel<NodeChange> _outgoingChanges = System.Threading.Channels.Channel.CreateUnbounded<NodeChange>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<string?> _incomingChanges = System.Threading.Channels.Channel.CreateUnbounded<string?>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private long _listens;
    private long _received;
    private long _changesReceived;

    /// <summary>A signal over the database <paramref name="connectionString"/> names; <paramref name="changes"/> hears the others' changes (none: ignored).</summary>
    public PostgresNodeSignal(string connectionString, NodeIdentity node, INodeSignalReceiver catchUp, TimeProvider time, ILogger<PostgresNodeSignal> logger,
        INodeChangeReceiver? changes = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.KeepAlive == 0)
        {
            // why: a listening connection only reads; without keep-alives a silently lost server would never be noticed.
            builder.KeepAlive = 15;
        }

        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        _node = node;
        _catchUp = catchUp;
        _changes = changes ?? new IgnoredChanges();
        _time = time;
        _logger = logger;
    }

    public bool Shared => true;

    /// <summary>How many times the listening connection has started listening (the first time, and after each reconnect).</summary>
    internal long Listens => Interlocked.Read(ref _listens);

    /// <summary>Payloads of other nodes taken in so far.</summary>
    internal long Received => Interlocked.Read(ref _received);

    /// <summary>Change payloads (<see cref="ChangesChannelName"/>) of other nodes taken in so far.</summary>
    internal long ChangesReceived => Interlocked.Read(ref _changesReceived);

    public void PushesStored(IEnumerable<(string AgentId, long Seq)> pushes)
    {
        var list = pushes.ToList();
        if (list.Count > 0)
        {
            _outgoing.Writer.TryWrite(list);
        }
    }

    public void Changed(NodeChange change) => _outgoingChanges.Writer.TryWrite(change);

    public Task RunAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(
            ListenAsync(stoppingToken),
            ReceiveAsync(_incoming.Reader, (p, ct) => TakeAsync<List<(string AgentId, long Seq)>>(p, _catchUp.EverythingStoredAsync, NodeSignalPayload.TryDecode, TakePushesAsync, ct), stoppingToken),
            ReceiveAsync(_incomingChanges.Reader, (p, ct) => TakeAsync<List<NodeChange>>(p, _changes.EverythingChangedAsync, NodeChangePayload.TryDecode, TakeChangesAsync, ct), stoppingToken),
            SendAsync(_outgoing.Reader, ChannelName, gathered => NodeSignalPayload.Encode(_node.Name, gathered.SelectMany(static p => p)), stoppingToken),
            SendAsync(_outgoingChanges.Reader, ChangesChannelName, gathered => NodeChangePayload.Encode(_node.Name, gathered), stoppingToken));

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        var retry = FirstRetry;
        var missed = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // :: Step 1: open and listen.
                var connection = await _dataSource.OpenConnectionAsync(stoppingToken).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    connection.Notification += OnNotification;
                    foreach (var channel in (string[])[ChangesChannelName, ChannelName])
                    {
                        await using var listen = new NpgsqlCommand($"LISTEN {channel}", connection);
                        await listen.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                    }

                    Interlocked.Increment(ref _listens);
                    retry = FirstRetry;
                    if (missed)
                    {
                        // :: Step 3: signals sent while nobody listened are lost; the store is not.
                        Log.ListeningAgain(_logger, _node.Name);
                        _incoming.Writer.TryWrite(null);
                        _incomingChanges.Writer.TryWrite(null);
                        missed = false;
                    }

                    // :: Step 2: notifications arrive through OnNotification while the connection waits.
                    while (true)
                    {
                        await connection.WaitAsync(stoppingToken).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or SocketException or TimeoutException)
            {
                missed = true;
                Log.ListenFailed(_logger, retry.TotalSeconds, ex);
                if (!await DelayAsync(retry, stoppingToken).ConfigureAwait(false))
                {
                    return;
                }

                retry = NextRetry(retry);
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e) =>
        (e.Channel == ChangesChannelName ? _incomingChanges : _incoming).Writer.TryWrite(e.Payload);

    private async Task ReceiveAsync(ChannelReader<string?> incoming, Func<string?, CancellationToken, Task> take, CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var payload in incoming.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await take(payload, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // why: one failed read of the store must not stop this node hearing the others; its agents still get these pushes
                    // at their next hello or poll.
                    Log.CatchUpFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// One payload of <paramref name="decode"/>'s kind heard: null brings everything up to the store (signals may have been missed); another
    /// node's goes to <paramref name="apply"/>; this node's own is skipped.
    /// </summary>
    private async Task TakeAsync<T>(string? payload, Func<CancellationToken, Task> everything, Decoder<T> decode, Func<T, CancellationToken, Task> apply, CancellationToken stoppingToken)
    {
        if (payload is null)
        {
            await everything(stoppingToken).ConfigureAwait(false);
            return;
        }

        if (!decode(payload, out var node, out var items))
        {
            Log.Malformed(_logger, payload.Length);
            return;
        }

        if (!string.Equals(node, _node.Name, StringComparison.Ordinal))
        {
            await apply(items, stoppingToken).ConfigureAwait(false);
        }
    }

    private Task TakePushesAsync(List<(string AgentId, long Seq)> pushes, CancellationToken stoppingToken)
    {
        Interlocked.Increment(ref _received);
        return _catchUp.StoredElsewhereAsync(pushes, stoppingToken);
    }

    private async Task TakeChangesAsync(List<NodeChange> changes, CancellationToken stoppingToken)
    {
        Interlocked.Increment(ref _changesReceived);
        foreach (var change in changes)
        {
            await _changes.ChangedElsewhereAsync(change, stoppingToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sends what <paramref name="queue"/> gathers on <paramref name="channel"/>, as the payloads <paramref name="encode"/> makes of it.</summary>
    private async Task SendAsync<T>(ChannelReader<T> queue, string channel, Func<List<T>, List<string>> encode, CancellationToken stoppingToken)
    {
        try
        {
            while (await queue.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                var gathered = new List<T>();
                while (queue.TryRead(out var item))
                {
                    gathered.Add(item);
                }

                var payloads = encode(gathered);
                var retry = FirstRetry;
                while (!await TrySendAsync(channel, payloads, stoppingToken).ConfigureAwait(false))
                {
                    Log.SendFailedRetrying(_logger, payloads.Count, retry.TotalSeconds);
                    if (!await DelayAsync(retry, stoppingToken).ConfigureAwait(false))
                    {
                        return;
                    }

                    retry = NextRetry(retry);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task<bool> TrySendAsync(string channel, List<string> payloads, CancellationToken stoppingToken)
    {
        try
        {
            var connection = await _dataSource.OpenConnectionAsync(stoppingToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                await using var batch = new NpgsqlBatch(connection);
                foreach (var payload in payloads)
                {
                    batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_notify($1, $2)")
                    {
                        Parameters = { new NpgsqlParameter { Value = channel }, new NpgsqlParameter { Value = payload } },
                    });
                }

                await batch.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                return true;
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or SocketException or TimeoutException)
        {
            Log.SendFailed(_logger, ex);
            return false;
        }
    }

    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private delegate bool Decoder<T>(string payload, out string node, out T items);

    private static TimeSpan NextRetry(TimeSpan retry) => retry * 2 < LastRetry ? retry * 2 : LastRetry;

    private static partial class Log
    {
        [LoggerMessage(EventId = 1000, Level = LogLevel.Warning, Message = "Node signal: the listening connection to the database failed; trying again in {Seconds} s")]
        public static partial void ListenFailed(ILogger logger, double seconds, Exception exception);

        [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Node signal: node {Node} listens again; its agents get every push the store holds for them")]
        public static partial void ListeningAgain(ILogger logger, string node);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Node signal: could not notify the other nodes")]
        public static partial void SendFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Node signal: {Count} notifications wait; trying again in {Seconds} s")]
        public static partial void SendFailedRetrying(ILogger logger, int count, double seconds);

        [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "Node signal: could not bring this node's agents up to the pushes other nodes stored")]
        public static partial void CatchUpFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Node signal: a notification of {Length} characters is not a node signal; ignored")]
        public static partial void Malformed(ILogger logger, int length);
    }
}

/// <summary>Changes heard by a signal that was given no one to tell (tests of the push signal alone).</summary>
file sealed class IgnoredChanges : INodeChangeReceiver
{
    public Task ChangedElsewhereAsync(NodeChange change, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task EverythingChangedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
