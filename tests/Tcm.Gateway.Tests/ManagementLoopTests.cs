using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Tcm.Gateway.Management;
using Tcm.Protocol;
using Tcm.Testing;

namespace Tcm.Gateway.Tests;

/// <summary>The gateway's report and decision loops on a fake clock, against a fake Notification Server.</summary>
public sealed class ManagementLoopTests : IAsyncDisposable
{
    private static readonly ManagementTiming Timing = ManagementTiming.For(TimeSpan.FromSeconds(10));
    private readonly TimerCountingTimeProvider _clock = new(DateTimeOffset.UnixEpoch);
    private readonly FakeNotificationServer _ns = new();
    private readonly ConcurrentQueue<GatewayDecision> _applied = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ManagementLoop _loop;
    private Task? _running;

    public ManagementLoopTests() =>
        _loop = new ManagementLoop(_ns, () => new GatewayReport { At = _clock.GetUtcNow() }, _applied.Enqueue, Timing, _clock, NullLogger.Instance);

    [Fact]
    public async Task Reports_at_start_then_once_for_a_burst_of_changes_a_second_later_then_at_the_interval()
    {
        // Five changes while the first report is on its way.
        _ns.OnReport = count =>
        {
            for (var i = 0; count == 1 && i < 5; i++)
            {
                _loop.NotifyChanged();
            }
        };
        Start();
        await WaitForAsync(() => _ns.Reports.Count == 1 && _clock.ActiveTimers == 1, "the first report, then the spacing's delay");
        _clock.Advance(TimeSpan.FromMilliseconds(999));
        (_ns.Reports.Count, _clock.ActiveTimers).Should().Be((1, 1), "no second report within a second of the first");

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await WaitForAsync(() => _ns.Reports.Count == 2 && _clock.ActiveTimers == 1, "one report for the five changes, then the wait for a change or the interval");
        _clock.Advance(TimeSpan.FromSeconds(10));
        await WaitForAsync(() => _ns.Reports.Count == 3, "the report at the interval");

        _ns.Reports.Select(r => (r.At - DateTimeOffset.UnixEpoch).TotalSeconds).Should().Equal(0, 1, 11);
    }

    [Fact]
    public async Task A_decision_is_applied_once_and_acknowledged_by_the_next_poll()
    {
        var decision = new GatewayDecision("d1", new string('A', 64), GatewayCertificateAction.Approve, DateTimeOffset.UnixEpoch);
        _ns.Answers.Enqueue(new GatewayDecisions { Decisions = [decision] });
        Start();

        await WaitForAsync(() => _ns.Polls.Count == 2, "the poll that acknowledges the decision");
        _applied.Should().Equal(decision);
        _ns.Polls.Select(p => string.Join(",", p.Applied)).Should().Equal("", "d1");
        _ns.Waits.Should().OnlyContain(w => w == Timing.PollWait);
    }

    [Fact]
    public async Task A_failed_report_is_sent_again_after_the_back_off()
    {
        _ns.FailReports = 1;
        Start();
        await WaitForAsync(() => _ns.ReportCalls == 1 && _clock.ActiveTimers == 1, "the failed report and its back-off");
        _ns.Reports.Should().BeEmpty();
        _clock.Advance(Timing.RetryMax);
        await WaitForAsync(() => _ns.Reports.Count == 1, "the report sent again");
    }

    private void Start() => _running = _loop.RunAsync(_stop.Token);

    private static Task WaitForAsync(Func<bool> condition, string what) => Eventually.WaitAsync(condition, TimeSpan.FromSeconds(10), what);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_running is not null)
        {
            await _running;
        }

        _stop.Dispose();
    }

    /// <summary>Takes reports, answers polls from <see cref="Answers"/> and, when none is left, holds the poll until the loop stops.</summary>
    private sealed class FakeNotificationServer : IManagementClient
    {
        private int _reportCalls;

        public ConcurrentQueue<GatewayReport> Reports { get; } = new();
        public ConcurrentQueue<GatewayDecisionPoll> Polls { get; } = new();
        public ConcurrentQueue<TimeSpan> Waits { get; } = new();
        public ConcurrentQueue<GatewayDecisions> Answers { get; } = new();
        public int FailReports { get; set; }
        public Action<int>? OnReport { get; set; }
        public int ReportCalls => Volatile.Read(ref _reportCalls);

        public string NotificationServer => "ns1";

        public Task ReportAsync(GatewayReport report, CancellationToken ct)
        {
            if (Interlocked.Increment(ref _reportCalls) <= FailReports)
            {
                return Task.FromException(new HttpRequestException("refused"));
            }

            Reports.Enqueue(report);
            OnReport?.Invoke(Reports.Count);
            return Task.CompletedTask;
        }

        public async Task<GatewayDecisions> PollAsync(GatewayDecisionPoll poll, TimeSpan wait, CancellationToken ct)
        {
            Polls.Enqueue(poll);
            Waits.Enqueue(wait);
            if (Answers.TryDequeue(out var answer))
            {
                return answer;
            }

            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            return new GatewayDecisions();
        }
    }
}
