using System.Collections.Concurrent;

namespace Tcm.LoadTests.Harness.Statistics;

/// <summary>Collects the responses of one step (or of a scenario's iterations) while a scenario runs. Thread-safe.</summary>
internal sealed class StepCollector
{
    private const int MaxDistinctMessages = 50;

    private readonly ConcurrentDictionary<string, long> _failMessages = new(StringComparer.Ordinal);
    private LogHistogram _total = new();
    private LogHistogram _interval = new();
    private long _ok;
    private long _fail;
    private long _okBytes;
    private long _intervalOk;
    private long _intervalFail;

    public StepCollector(string name) => Name = name;

    public string Name { get; }

    public long OkCount => Interlocked.Read(ref _ok);

    public long FailCount => Interlocked.Read(ref _fail);

    /// <summary>Records an OK response.</summary>
    public void RecordOk(TimeSpan latency, long bytes)
    {
        Interlocked.Increment(ref _ok);
        Interlocked.Increment(ref _intervalOk);
        Interlocked.Add(ref _okBytes, Math.Max(0, bytes));
        Volatile.Read(ref _total).Record(latency);
        Volatile.Read(ref _interval).Record(latency);
    }

    /// <summary>Records a failed response.</summary>
    public void RecordFail(string? message)
    {
        Interlocked.Increment(ref _fail);
        Interlocked.Increment(ref _intervalFail);
        var key = string.IsNullOrWhiteSpace(message) ? "(no message)" : message.Length > 400 ? message[..400] : message;
        if (_failMessages.Count < MaxDistinctMessages || _failMessages.ContainsKey(key))
        {
            _failMessages.AddOrUpdate(key, 1, static (_, n) => n + 1);
        }
    }

    /// <summary>Adds a histogram of OK latencies measured elsewhere (a server's round trips).</summary>
    public void RecordOkHistogram(LogHistogram histogram, long bytes)
    {
        Interlocked.Add(ref _ok, histogram.Count);
        Interlocked.Add(ref _intervalOk, histogram.Count);
        Interlocked.Add(ref _okBytes, bytes);
        Volatile.Read(ref _total).Add(histogram);
        Volatile.Read(ref _interval).Add(histogram);
    }

    /// <summary>Forgets everything (after warm-up).</summary>
    public void Reset()
    {
        Volatile.Write(ref _total, new LogHistogram());
        Volatile.Write(ref _interval, new LogHistogram());
        Interlocked.Exchange(ref _ok, 0);
        Interlocked.Exchange(ref _fail, 0);
        Interlocked.Exchange(ref _okBytes, 0);
        Interlocked.Exchange(ref _intervalOk, 0);
        Interlocked.Exchange(ref _intervalFail, 0);
        _failMessages.Clear();
    }

    /// <summary>Takes the figures since the previous call and starts a new interval.</summary>
    public SeriesSample TakeInterval()
    {
        var histogram = Interlocked.Exchange(ref _interval, new LogHistogram());
        var ok = Interlocked.Exchange(ref _intervalOk, 0);
        var fail = Interlocked.Exchange(ref _intervalFail, 0);
        return new SeriesSample
        {
            Name = Name,
            Ok = ok,
            Fail = fail,
            P50Ms = histogram.Percentile(50) / 1000.0,
            P99Ms = histogram.Percentile(99) / 1000.0,
            Histogram = histogram.Count == 0 ? null : histogram.ToData(),
        };
    }

    /// <summary>The statistics so far over a measured duration.</summary>
    public StepStats ToStats(TimeSpan duration)
    {
        var histogram = Volatile.Read(ref _total).Clone();
        var messages = _failMessages
            .OrderByDescending(p => p.Value)
            .Take(10)
            .Select(p => new FailMessage(p.Key, p.Value))
            .ToList();
        return Build(Name, OkCount, FailCount, Interlocked.Read(ref _okBytes), histogram, duration.TotalSeconds, messages);
    }

    /// <summary>Builds statistics from raw figures (also used when merging shards).</summary>
    public static StepStats Build(string name, long ok, long fail, long okBytes, LogHistogram histogram, double seconds, IReadOnlyList<FailMessage> messages)
    {
        var total = ok + fail;
        var perSecond = seconds > 0 ? 1 / seconds : 0;
        return new StepStats
        {
            Name = name,
            Count = total,
            Rps = total * perSecond,
            DurationSeconds = seconds,
            Ok = new OkStats { Count = ok, Rps = ok * perSecond, Latency = LatencyStats.From(histogram), Bytes = okBytes },
            Fail = new FailStats
            {
                Count = fail,
                Percent = total == 0 ? 0 : 100.0 * fail / total,
                Rps = fail * perSecond,
                Messages = messages,
            },
            Histogram = histogram.ToData(),
        };
    }
}
