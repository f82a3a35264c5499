using System.Net.Http.Json;
using System.Net.Security;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tcm.Hosting.Certificates;
using Tcm.Hosting.Signals;
using Tcm.Protocol;
using Tcm.TaskServer.Agents;
using Tcm.TaskServer.Diagnostics;
using Tcm.TaskServer.Identity;

namespace Tcm.TaskServer.NotificationServerLink;

/// <summary>
/// The Task Server's link to its Notification Server, with its site-server certificate:
/// <list type="number">
/// <item>work loop: report every agent held (full report), then keep a long poll on <see cref="TaskServerPaths.Work"/> open; tasks
/// that arrive are stored as pushes, sent on open channels, and confirmed with <see cref="TaskServerPaths.Accepted"/>; released agents
/// are forgotten. Any failure: back off (full jitter) and start again with a full report, so a restarted NS learns everything.</item>
/// <item>forward loop: on every change, report agent changes and drain the outbox in order, each batch's statuses and results in one
/// request (statuses first); an entry leaves
/// the outbox only after the NS confirmed it, so results survive an unreachable NS and a restarted Task Server (store and forward).</item>
/// </list>
/// With several NS nodes (<see cref="TaskServerOptions.NotificationServerUrl"/> lists them) both loops call the same node, and a failure
/// in either moves both to the next node round the list; the work loop's full report then tells that node everything.
/// </summary>
internal sealed partial class NotificationServerLink : BackgroundService
{
    // why: a fan-out's results are forwarded in batches one request after the other, each waiting for the NS's commit, so
    // the batch's size sets how many round trips a fan-out's results take (2,000 results: ten at 200, two at 1,000); the
    // bytes keep a batch of large outputs under the NS's request size limit.
    internal const int BatchSize = 1000;

    // why: the next batch goes while the NS stores the ones before (a result counts from its arrival at the NS, so it is not held
    // behind an earlier batch's commit there). A fan-out's timeline showed the Task Server's commits of its results coming every
    // 10 to 30 ms while each forward waited tens of milliseconds for the NS's commit, so with two open the last results waited for
    // a free request; four keep them moving without many requests on the NS at once. The NS stores each result once by its key.
    internal const int ForwardsInFlight = 4;
    internal const int BatchBytes = 4 * 1024 * 1024;

    /// <summary>How often the forward loop looks at the outbox when nothing changed (a write the loop missed, a retry).</summary>
    internal static readonly TimeSpan ForwardInterval = TimeSpan.FromSeconds(5);

    private readonly TaskServerOptions _options;
    private readonly TaskDelivery _delivery;
    private readonly TsMetrics _metrics;
    private readonly ServerAddresses _addresses;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _client;
    private readonly SocketsHttpHandler _handler;
    private readonly WorkSignal _changed = new();

    // why: what the outbox's drain waits on between answers: set once per commit that added to the outbox (not per result, which
    // woke the drain thousands of times per fan-out to find the same entries), apart from the forward loop's signal.
    private readonly WorkSignal _written = new();
    private readonly OutboxForwarder _forwarder;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly Uri[] _nodes;
    private int _node;
    private volatile bool _reachable;

    public NotificationServerLink(IOptions<TaskServerOptions> options, TaskServerIdentity identity, TaskDelivery delivery, TsMetrics metrics,
        ServerAddresses addresses, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<NotificationServerLink> logger)
    {
        _lifetime = lifetime;
        _options = options.Value;
        _delivery = delivery;
        _metrics = metrics;
        _addresses = addresses;
        _time = time;
        _logger = logger;
        _handler = new SocketsHttpHandler
        {
            UseProxy = false,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, c, _, e) => CertificateTrust.ValidateServer(c, e, identity.Ca),
                ClientCertificateContext = SslStreamCertificateContext.Create(identity.Certificate, null, offline: true),
            },
        };
        _nodes = [.. _options.NotificationServerNodes().Select(static n => n!)];
        _client = new HttpClient(_handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        _forwarder = new OutboxForwarder(delivery, metrics, _written, time, ForwardAsync);
        delivery.Changed += Wake;
        delivery.OutboxWritten += _written.Set;
    }

    /// <summary>Whether the last exchange with the NS succeeded.</summary>
    public bool Reachable => _reachable;

    private void Wake() => _changed.Set();

    /// <summary>The node called now: its index and URL.</summary>
    private (int Index, Uri Url) Node
    {
        get
        {
            var index = Volatile.Read(ref _node);
            return (index, _nodes[index]);
        }
    }

    /// <summary>The call to node <paramref name="failed"/> failed: both loops go on with the next node (once, whichever loop saw it first).</summary>
    private void MoveOn(int failed) => Interlocked.CompareExchange(ref _node, (failed + 1) % _nodes.Length, failed);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // why: the report carries the bound address, known once Kestrel listens (port 0 in tests and the lab).
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (_lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        await Task.WhenAll(Task.Run(() => WorkLoopAsync(stoppingToken), CancellationToken.None), Task.Run(() => ForwardLoopAsync(stoppingToken), CancellationToken.None)).ConfigureAwait(false);
    }

    private async Task WorkLoopAsync(CancellationToken stop)
    {
        var attempt = 0;
        var reported = false;
        while (!stop.IsCancellationRequested)
        {
            var node = Node;
            try
            {
                if (!reported)
                {
                    var (agents, _) = _delivery.TakeReport(full: true);
                    await PostAsync(TaskServerPaths.Report, new TaskServerReport { Address = _addresses.PublicHostPort, MaxAgents = _delivery.MaxAgents, Full = true, Agents = agents },
                        ProtocolJsonContext.Default.TaskServerReport, TimeSpan.FromSeconds(30), stop).ConfigureAwait(false);
                    reported = true;
                    Log.Connected(_logger, node.Url.ToString(), agents.Count);
                }

                var wait = (int)Math.Clamp(_options.WorkPollWait.TotalSeconds, 0, 60);
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(wait + 15), _time);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop, deadline.Token);
                var work = await _client.GetFromJsonAsync(
                    new Uri(node.Url, $"{TaskServerPaths.Work}?wait={wait}&{TaskServerPaths.WorkGroupsQuery}=1"), ProtocolJsonContext.Default.TaskServerWork, timeout.Token).ConfigureAwait(false)
                    ?? new TaskServerWork();
                SetReachable(true);
                attempt = 0;
                foreach (var agentId in work.Released)
                {
                    _delivery.Release(agentId);
                }

                foreach (var task in work.Cancelled)
                {
                    _delivery.Cancel(task.ActionId, task.AgentId);
                }

                // why: an NS of before ignores the groups query and lists a task per agent; both forms read as one list.
                var tasks = work.AllTasks();
                if (tasks.Count > 0)
                {
                    var accepted = await _delivery.AcceptAsync(tasks, stop).ConfigureAwait(false);
                    Log.TasksReceived(_logger, tasks.Count);
                    await PostAsync(TaskServerPaths.Accepted, new TaskServerAccepted { Items = accepted }, ProtocolJsonContext.Default.TaskServerAccepted, TimeSpan.FromSeconds(30), stop).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or System.Text.Json.JsonException)
            {
                reported = false;
                SetReachable(false);
                MoveOn(node.Index);
                _metrics.ForwardFailed();
                var delay = Delay(attempt++);
                Log.Unreachable(_logger, node.Url.ToString(), ex.Message, delay.TotalMilliseconds);
                await DelayAsync(delay, stop).ConfigureAwait(false);
            }
        }
    }

    private async Task ForwardLoopAsync(CancellationToken stop)
    {
        var attempt = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await _changed.WaitAsync(ForwardInterval, _time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            List<TaskServerAgentState>? pending = null;
            var node = Node;
            try
            {
                var (agents, removed) = _delivery.TakeReport(full: false);
                pending = agents;
                if (agents.Count > 0 || removed.Count > 0)
                {
                    await PostAsync(TaskServerPaths.Report, new TaskServerReport { Address = _addresses.PublicHostPort, MaxAgents = _delivery.MaxAgents, Agents = agents, Removed = removed },
                        ProtocolJsonContext.Default.TaskServerReport, TimeSpan.FromSeconds(30), stop).ConfigureAwait(false);
                }

                pending = null;
                await _forwarder.DrainAsync(stop).ConfigureAwait(false);
                attempt = 0;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or System.Text.Json.JsonException)
            {
                if (pending is not null)
                {
                    _delivery.RestoreReport(pending.Select(a => a.AgentId));
                }

                SetReachable(false);
                MoveOn(node.Index);
                _metrics.ForwardFailed();
                var delay = Delay(attempt++);
                Log.ForwardFailed(_logger, ex.Message, delay.TotalMilliseconds);
                await DelayAsync(delay, stop).ConfigureAwait(false);
                Wake();
            }
        }
    }

    private async Task PostAsync<T>(string path, T body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, TimeSpan timeout, CancellationToken stop)
    {
        using var response = await SendAsync(path, body, typeInfo, timeout, stop).ConfigureAwait(false);
    }

    private async Task<System.Net.Http.HttpResponseMessage> SendAsync<T>(string path, T body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, TimeSpan timeout, CancellationToken stop)
    {
        var response = await Tcm.Hosting.Registration.SiteServerHttp.PostAsync(_client, new Uri(Node.Url, path).ToString(), body, typeInfo, timeout, _time, stop).ConfigureAwait(false);
        SetReachable(true);
        return response;
    }

    private void SetReachable(bool reachable) => _reachable = reachable;

    private TimeSpan Delay(int attempt)
    {
        var ceiling = Math.Min(_options.NotificationServerRetryMax.TotalMilliseconds, 500 * Math.Pow(2, Math.Min(attempt, 20)));
        return TimeSpan.FromMilliseconds(Math.Max(50, ceiling * Random.Shared.NextDouble()));
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, _time, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override void Dispose()
    {
        _delivery.Changed -= Wake;
        _delivery.OutboxWritten -= _written.Set;
        _client.Dispose();
        _handler.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2300, Level = LogLevel.Information, Message = "Connected to Notification Server {Url}: reported {Count} agents, waiting for tasks")]
        public static partial void Connected(ILogger logger, string url, int count);

        [LoggerMessage(EventId = 2301, Level = LogLevel.Warning, Message = "Notification Server {Url} unreachable ({Reason}); retrying in {DelayMs:0} ms, results are kept meanwhile")]
        public static partial void Unreachable(ILogger logger, string url, string reason, double delayMs);

        [LoggerMessage(EventId = 2302, Level = LogLevel.Debug, Message = "Received {Count} tasks from the Notification Server")]
        public static partial void TasksReceived(ILogger logger, int count);

        [LoggerMessage(EventId = 2303, Level = LogLevel.Warning, Message = "Forwarding to the Notification Server failed ({Reason}); kept in the outbox, retrying in {DelayMs:0} ms")]
        public static partial void ForwardFailed(ILogger logger, string reason, double delayMs);

        [LoggerMessage(EventId = 2304, Level = LogLevel.Debug, Message = "Forwarded {Statuses} statuses and {Stored} results to the Notification Server ({Refused} refused)")]
        public static partial void ResultsForwarded(ILogger logger, int statuses, int stored, int refused);
    }
}
