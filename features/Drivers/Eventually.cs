using System.Diagnostics;

namespace Tcm.Features.Drivers;

/// <summary>
/// Waits on a condition with a deadline: no sleep-and-hope. Probes quickly at first (20 ms), then every 250 ms at most;
/// on timeout fails with what was last observed. The idea of the functional tests' helper, kept here so the features do
/// not reference the test project.
/// </summary>
internal static class Eventually
{
    public static async Task<T> WaitAsync<T>(Func<CancellationToken, Task<T>> probe, Func<T, bool> condition, TimeSpan deadline, string what, CancellationToken ct, Func<T, string>? describe = null)
    {
        var clock = Stopwatch.StartNew();
        var last = await probe(ct);
        var delay = TimeSpan.FromMilliseconds(20);
        while (!condition(last))
        {
            if (clock.Elapsed > deadline)
            {
                throw new TimeoutException($"Waited {Seconds(deadline)} for {what}; last observed: {(describe ?? Describe)(last)}");
            }

            await Task.Delay(delay, ct);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 1.5, 250));
            last = await probe(ct);
        }

        return last;
    }

    public static Task<T> WaitAsync<T>(Func<T> probe, Func<T, bool> condition, TimeSpan deadline, string what, CancellationToken ct, Func<T, string>? describe = null) =>
        WaitAsync(_ => Task.FromResult(probe()), condition, deadline, what, ct, describe);

    /// <summary>
    /// Checks that <paramref name="condition"/> holds on every probe for the whole of <paramref name="period"/> ("stays on
    /// HTTP for 2s"): fails at the first probe where it does not, with what was observed.
    /// </summary>
    public static async Task HoldsForAsync<T>(Func<T> probe, Func<T, bool> condition, TimeSpan period, string what, CancellationToken ct, Func<T, string>? describe = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var now = probe();
            if (!condition(now))
            {
                throw new InvalidOperationException($"Expected {what} for {Seconds(period)}, but after {Seconds(clock.Elapsed)}: {(describe ?? Describe)(now)}");
            }

            if (clock.Elapsed >= period)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), ct);
        }
    }

    private static string Seconds(TimeSpan t) => $"{t.TotalSeconds:0.#} s";

    private static string Describe<T>(T value) => value switch
    {
        null => "null",
        System.Collections.IEnumerable e and not string => "[" + string.Join(", ", e.Cast<object?>().Take(10)) + "]",
        _ => value.ToString() ?? "",
    };
}
