using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Tcm.LoadTests.Harness.Reports;

namespace Tcm.LoadTests.Baseline.Server;

/// <summary>
/// The bare server of the baseline: Kestrel on 127.0.0.1 with TLS, HTTP/1.1 and HTTP/2 on one port, a WebSocket endpoint
/// (<c>/ws?ch=ns|ts&amp;g=group</c>) that holds connections and answers nothing but echoes, and control endpoints the load
/// tests drive (<c>/control/stats</c>, <c>/control/fanout</c>, <c>/control/restart</c>). No TCM logic.
/// </summary>
/// <remarks>
/// A push is 16 bytes of header (sender's <see cref="Stopwatch"/> timestamp, round number) padded to the requested size;
/// the client echoes it. Stopwatch timestamps are CLOCK_MONOTONIC on Linux, shared by every process of the machine, so a
/// client in another process can compute the delivery time.
/// </remarks>
internal sealed class BaselineServer : IAsyncDisposable
{
    private const int MaxMessage = 64 * 1024;

    private readonly X509Certificate2 _certificate;
    private readonly ConcurrentDictionary<long, Session> _sessions = new();
    private readonly ConcurrentDictionary<long, FanoutRound> _rounds = new();
    private readonly ConcurrentDictionary<long, long> _acceptsPerSecond = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private WebApplication? _app;
    private long _nextSession;
    private long _nextRound;
    private long _accepted;
    private long _startedAt;

    /// <summary>Creates a server for port <paramref name="port"/> (0: any free port, kept across restarts).</summary>
    public BaselineServer(X509Certificate2 certificate, int port)
    {
        _certificate = certificate;
        Port = port;
    }

    /// <summary>The port, known after the first start.</summary>
    public int Port { get; private set; }

    /// <summary>The base address, e.g. https://127.0.0.1:5001.</summary>
    public Uri BaseAddress => new($"https://127.0.0.1:{Port}");

    /// <summary>Starts listening.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StartCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Drops every connection (as a crash would) and stops listening.</summary>
    public async Task StopAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            await StopCoreAsync().ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Stops, waits <paramref name="downtime"/>, and starts again on the same port.</summary>
    public async Task RestartAsync(TimeSpan downtime, CancellationToken cancellationToken)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StopCoreAsync().ConfigureAwait(false);
            await Task.Delay(downtime, cancellationToken).ConfigureAwait(false);
            await StartCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>The server's figures, optionally after a full compacting collection.</summary>
    public ServerSnapshot Snapshot(bool fullCollect)
    {
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime.TotalMilliseconds;
        long managed;
        if (fullCollect)
        {
            System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            managed = GC.GetTotalMemory(forceFullCollection: true);
        }
        else
        {
            managed = GC.GetTotalMemory(false);
        }

        process.Refresh();
        var sessions = _sessions.Values.ToList();
        return new ServerSnapshot
        {
            ProcessId = Environment.ProcessId,
            WebSockets = sessions.Count,
            Connections = sessions.Select(s => s.ConnectionId).Distinct(StringComparer.Ordinal).Count(),
            Accepted = Interlocked.Read(ref _accepted),
            PeakAcceptsPerSecond = _acceptsPerSecond.IsEmpty ? 0 : _acceptsPerSecond.Values.Max(),
            ManagedBytes = managed,
            WorkingSetBytes = process.WorkingSet64,
            CpuMsBeforeCollect = cpuBefore,
            CpuMsAfterCollect = process.TotalProcessorTime.TotalMilliseconds,
            Timestamp = Stopwatch.GetTimestamp(),
        };
    }

    /// <summary>The group of shard <paramref name="shard"/>'s warm-up agents: apart from every shard's fleet, so a fan-out can reach them alone.</summary>
    public static int WarmUpGroup(int shard) => 1_000_000 + shard;

    /// <summary>Sends one message to every NS channel (of <paramref name="group"/>, or all when negative) and waits for the echoes.</summary>
    public async Task<FanoutResult> FanoutAsync(int sizeBytes, TimeSpan timeout, int group, CancellationToken cancellationToken)
    {
        sizeBytes = Math.Clamp(sizeBytes, 16, MaxMessage);
        var targets = _sessions.Values.Where(s => s.Channel == "ns" && (group < 0 || s.Group == group)).ToList();
        var round = new FanoutRound(targets.Count);
        var roundId = Interlocked.Increment(ref _nextRound);
        _rounds[roundId] = round;
        var message = new byte[sizeBytes];
        BinaryPrimitives.WriteInt64LittleEndian(message.AsSpan(8), roundId);
        var failures = 0;
        var start = Stopwatch.GetTimestamp();

        // why: the timeout counts from the request, as TCM's does from its admin push: a fan-out queued behind the ones
        // before it (at a sustained rate) must not get a fresh timeout once it is sent.
        var requested = start;
        try
        {
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                BinaryPrimitives.WriteInt64LittleEndian(message, Stopwatch.GetTimestamp());
                start = Stopwatch.GetTimestamp();
                var sends = targets.Select(async s =>
                {
                    try
                    {
                        await s.Socket.SendAsync(message, WebSocketMessageType.Binary, true, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
                    {
                        Interlocked.Increment(ref failures);
                        round.Abandon();
                    }
                });
                await Task.WhenAll(sends).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }

            var left = timeout - Stopwatch.GetElapsedTime(requested);
            await round.AllEchoed.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Reported as missing echoes.
        }
        finally
        {
            _rounds.TryRemove(roundId, out _);
        }

        return new FanoutResult
        {
            Sent = targets.Count - failures,
            Echoed = round.Echoed,
            SendFailures = failures,
            TimeToAllEchoedMs = Stopwatch.GetElapsedTime(start, round.LastEcho == 0 ? Stopwatch.GetTimestamp() : round.LastEcho).TotalMilliseconds,
            RoundTrip = round.RoundTrips.ToData(),
        };
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _sendLock.Dispose();
        _lifecycle.Dispose();
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        var app = BareKestrel.Create(_certificate, Port);
        // why: like the TCM servers with an agent that announces its keep-alive: the client pings, the server only answers.
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        app.Map("/ws", AcceptAsync);
        app.MapGet("/control/stats", (bool? collect) => Results.Json(Snapshot(collect ?? false), JsonReport.Options));
        app.MapPost("/control/fanout", async (int? size, int? timeoutMs, int? group, CancellationToken ct) =>
            Results.Json(await FanoutAsync(size ?? 64, TimeSpan.FromMilliseconds(timeoutMs ?? 10_000), group ?? -1, ct).ConfigureAwait(false), JsonReport.Options));
        app.MapPost("/control/restart", (int? downMs) =>
        {
            _ = Task.Run(() => RestartAsync(TimeSpan.FromMilliseconds(downMs ?? 1000), CancellationToken.None));
            return Results.Accepted();
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        Port = BareKestrel.PortOf(app);
        _acceptsPerSecond.Clear();
        Interlocked.Exchange(ref _accepted, 0);
        _startedAt = Stopwatch.GetTimestamp();
        _app = app;
    }

    private async Task StopCoreAsync()
    {
        var app = _app;
        _app = null;
        if (app is null)
        {
            return;
        }

        foreach (var session in _sessions.Values)
        {
            session.Socket.Abort();
        }

        await BareKestrel.StopAsync(app).ConfigureAwait(false);
        _sessions.Clear();
    }

    private async Task AcceptAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        Interlocked.Increment(ref _accepted);
        var second = (long)Stopwatch.GetElapsedTime(_startedAt).TotalSeconds;
        _acceptsPerSecond.AddOrUpdate(second, 1, static (_, n) => n + 1);
        var query = context.Request.Query;
        var session = new Session(
            Interlocked.Increment(ref _nextSession),
            socket,
            context.Connection.Id,
            query["ch"].ToString() is { Length: > 0 } ch ? ch : "ns",
            int.TryParse(query["g"], out var g) ? g : 0);
        _sessions[session.Id] = session;
        try
        {
            await ReceiveAsync(session, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or the server is stopping.
        }
        finally
        {
            _sessions.TryRemove(session.Id, out _);
        }
    }

    private async Task ReceiveAsync(Session session, CancellationToken cancellationToken)
    {
        var socket = session.Socket;
        var closedByPeer = await BaselineReceiver.ReceiveAllAsync(socket, (buffer, length) =>
        {
            if (length >= 16)
            {
                var sent = BinaryPrimitives.ReadInt64LittleEndian(buffer);
                var roundId = BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(8));
                if (_rounds.TryGetValue(roundId, out var round))
                {
                    round.Echo(Stopwatch.GetElapsedTime(sent));
                }
            }

            return ValueTask.CompletedTask;
        }, cancellationToken).ConfigureAwait(false);
        if (closedByPeer)
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private sealed record Session(long Id, WebSocket Socket, string ConnectionId, string Channel, int Group);

    private sealed class FanoutRound(int expected)
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _echoed;
        private int _expected = expected;

        public LogHistogram RoundTrips { get; } = new();

        public int Echoed => Volatile.Read(ref _echoed);

        public long LastEcho { get; private set; }

        public Task AllEchoed
        {
            get
            {
                if (Volatile.Read(ref _expected) <= Echoed)
                {
                    _all.TrySetResult();
                }

                return _all.Task;
            }
        }

        public void Echo(TimeSpan roundTrip)
        {
            RoundTrips.Record(roundTrip);
            LastEcho = Stopwatch.GetTimestamp();
            if (Interlocked.Increment(ref _echoed) >= Volatile.Read(ref _expected))
            {
                _all.TrySetResult();
            }
        }

        public void Abandon()
        {
            if (Interlocked.Decrement(ref _expected) <= Echoed)
            {
                _all.TrySetResult();
            }
        }
    }
}
