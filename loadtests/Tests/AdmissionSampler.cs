namespace Tcm.LoadTests.Tests;

/// <summary>One server's admission totals (the <c>tcm_admission_*_total</c> series of its <c>/metrics</c>), by stage.</summary>
internal sealed record AdmissionTotals(IReadOnlyDictionary<string, long> Values)
{
    /// <summary>Nothing read.</summary>
    public static AdmissionTotals Empty { get; } = new(new Dictionary<string, long>());

    /// <summary>A total: <paramref name="series"/> (<c>started</c>, <c>finished</c>, <c>failed</c>, <c>refused</c>, <c>timed_out</c>, <c>abandoned</c>, <c>expired</c>) of <paramref name="stage"/>.</summary>
    public long this[string stage, string series] => Values.GetValueOrDefault($"{stage}/{series}");

    /// <summary>Reads the <c>tcm_admission_*_total{stage="..."}</c> lines of a Prometheus text page.</summary>
    public static AdmissionTotals Parse(string prometheusText)
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in prometheusText.Split('\n'))
        {
            if (!line.StartsWith("tcm_admission_", StringComparison.Ordinal) || line.IndexOf("_total{", StringComparison.Ordinal) is not (> 0 and var end))
            {
                continue;
            }

            var series = line["tcm_admission_".Length..end];
            var stageAt = line.IndexOf("stage=\"", StringComparison.Ordinal);
            var space = line.LastIndexOf(' ');
            if (stageAt < 0 || space < 0 || !double.TryParse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }

            stageAt += "stage=\"".Length;
            var stage = line[stageAt..line.IndexOf('"', stageAt)];
            values[$"{stage}/{series}"] = (long)value;
        }

        return new AdmissionTotals(values);
    }
}

/// <summary>
/// Reads the servers' admission totals once a second during a storm and reports, per second, the TLS handshakes started,
/// finished, refused and timed out at the server agents reach (the gateway through the gateway, else the Notification
/// Server), and the channel upgrades the Notification Server started, finished and refused with its retry hint. Each read
/// is a gauge <c>handshakes-tNNNs</c> (NNN: seconds since the sampling started; value: handshakes finished per second since the
/// read before, counts in its description); the totals over the storm are gauges too. "Failed" TLS handshakes include TCP
/// connections closed before TLS once admitted (an agent's reachability probe at start); "abandoned" are those that closed
/// while they waited for a place, and left the queue then. Through the gateway a place covers the whole connect (TLS to the
/// relayed upgrade): "finished" are connects done, "expired" places given back at the gateway's hold limit.
/// </summary>
internal sealed class AdmissionSampler(Func<CancellationToken, Task<(AdmissionTotals Front, AdmissionTotals Server)>> read)
{
    private static readonly string[] Series = ["started", "finished", "failed", "refused", "timed_out", "abandoned", "expired"];

    /// <summary>Samples into <paramref name="gauges"/> every second from now until <paramref name="stop"/>.</summary>
    public async Task RunAsync(GaugeSet gauges, TimeProvider time, CancellationToken stop)
    {
        var (front0, server0) = await ReadAsync(stop).ConfigureAwait(false) ?? (AdmissionTotals.Empty, AdmissionTotals.Empty);
        var (previousFront, previousServer) = (front0, server0);
        var started = time.GetTimestamp();
        var previousAt = started;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                if (await ReadAsync(stop).ConfigureAwait(false) is not var (front, server))
                {
                    continue;
                }

                // A read under a storm can take longer than a second: name each row by the time it was read, and rate by its own interval.
                var now = time.GetTimestamp();
                var interval = Math.Max(time.GetElapsedTime(previousAt, now).TotalSeconds, 1e-3);
                var second = (int)Math.Round(time.GetElapsedTime(started, now).TotalSeconds);
                previousAt = now;

                string Delta(AdmissionTotals now, AdmissionTotals before, string stage, string series) =>
                    (now[stage, series] - before[stage, series]).ToString(CultureInfo.InvariantCulture);
                var tls = string.Join(", ", Series.Select(s => $"{s.Replace('_', ' ')} {Delta(front, previousFront, "tls", s)}"));
                var upgrades = string.Join(", ", new[] { "started", "finished", "refused", "timed_out" }.Select(s => $"{s.Replace('_', ' ')} {Delta(server, previousServer, "upgrade", s)}"));
                var finished = front["tls", "finished"] - previousFront["tls", "finished"];
                gauges.Set(string.Create(CultureInfo.InvariantCulture, $"handshakes-t{second:D3}s"), finished / interval, "/s", GaugeMerge.Max,
                    string.Create(CultureInfo.InvariantCulture, $"TLS handshakes finished per second; over the last {interval:0.0} s: {tls}; NS channel upgrades: {upgrades}"));
                foreach (var s in Series)
                {
                    gauges.Set($"handshakes-{s.Replace('_', '-')}", front["tls", s] - front0["tls", s], "", GaugeMerge.Max, $"TLS handshakes {s.Replace('_', ' ')} at the server agents reach, during the storm");
                }

                gauges.Set("upgrades-refused-busy", server["upgrade", "refused"] + server["upgrade", "timed_out"] - server0["upgrade", "refused"] - server0["upgrade", "timed_out"], "", GaugeMerge.Max,
                    "channel upgrades the Notification Server answered 503 server-busy with Retry-After, during the storm");
                (previousFront, previousServer) = (front, server);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>The totals, or null when a server did not answer this second (the next second then covers two).</summary>
    private async Task<(AdmissionTotals, AdmissionTotals)?> ReadAsync(CancellationToken stop)
    {
        try
        {
            return await read(stop).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !stop.IsCancellationRequested)
        {
            return null;
        }
    }
}
