using System.Collections;

namespace Tcm.Testing;

/// <summary>
/// Waits on a condition with a deadline on the real clock: no sleep-and-hope. Probes at once, then every 20 ms growing to
/// 250 ms at most. On timeout it throws a <see cref="TimeoutException"/> that names what was awaited and the value last
/// observed; an exception thrown by the probe ends the wait at once. <see cref="HoldsForAsync{T}"/> checks the opposite
/// promise: that a condition stays true for a while.
/// </summary>
public static class Eventually
{
    /// <summary>The deadline of the overloads that take none: 15 s.</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan HoldsForInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Probes until <paramref name="condition"/> holds for the probed value and returns that value.</summary>
    /// <param name="probe">Reads the value; gets <paramref name="cancellationToken"/>.</param>
    /// <param name="condition">What the value must satisfy.</param>
    /// <param name="deadline">How long to wait, on the real clock.</param>
    /// <param name="what">What is awaited, for the failure message ("the agent to register").</param>
    /// <param name="cancellationToken">Ends the wait with <see cref="OperationCanceledException"/>.</param>
    /// <param name="describe">How to show the last value in the failure message; by default its text (a list's first ten items).</param>
    public static async Task<T> WaitAsync<T>(
        Func<CancellationToken, Task<T>> probe,
        Func<T, bool> condition,
        TimeSpan deadline,
        string what,
        CancellationToken cancellationToken = default,
        Func<T, string>? describe = null)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(condition);
        var clock = TimeProvider.System;
        var started = clock.GetTimestamp();
        var delay = FirstDelay;
        var last = await probe(cancellationToken).ConfigureAwait(false);
        while (!condition(last))
        {
            if (clock.GetElapsedTime(started) > deadline)
            {
                throw new TimeoutException($"Waited {Seconds(deadline)} for {what}; last observed: {(describe ?? Describe)(last)}");
            }

            await Task.Delay(delay, clock, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 3 / 2, MaxDelay.Ticks));
            last = await probe(cancellationToken).ConfigureAwait(false);
        }

        return last;
    }

    /// <inheritdoc cref="WaitAsync{T}(Func{CancellationToken, Task{T}}, Func{T, bool}, TimeSpan, string, CancellationToken, Func{T, string}?)"/>
    public static Task<T> WaitAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan deadline, string what, CancellationToken cancellationToken = default, Func<T, string>? describe = null)
    {
        ArgumentNullException.ThrowIfNull(probe);
        return WaitAsync(_ => probe(), condition, deadline, what, cancellationToken, describe);
    }

    /// <inheritdoc cref="WaitAsync{T}(Func{CancellationToken, Task{T}}, Func{T, bool}, TimeSpan, string, CancellationToken, Func{T, string}?)"/>
    public static Task<T> WaitAsync<T>(Func<T> probe, Func<T, bool> condition, TimeSpan deadline, string what, CancellationToken cancellationToken = default, Func<T, string>? describe = null)
    {
        ArgumentNullException.ThrowIfNull(probe);
        return WaitAsync(_ => Task.FromResult(probe()), condition, deadline, what, cancellationToken, describe);
    }

    /// <summary>As the other overloads, with <see cref="DefaultDeadline"/>.</summary>
    public static Task<T> WaitAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, string what, CancellationToken cancellationToken = default) =>
        WaitAsync(probe, condition, DefaultDeadline, what, cancellationToken);

    /// <summary>Waits until <paramref name="condition"/> is true.</summary>
    public static Task WaitAsync(Func<bool> condition, TimeSpan deadline, string what, CancellationToken cancellationToken = default) =>
        WaitAsync(condition, ok => ok, deadline, what, cancellationToken);

    /// <summary>Waits until <paramref name="condition"/> is true, with <see cref="DefaultDeadline"/>.</summary>
    public static Task WaitAsync(Func<bool> condition, string what, CancellationToken cancellationToken = default) =>
        WaitAsync(condition, DefaultDeadline, what, cancellationToken);

    /// <summary>
    /// Checks that <paramref name="condition"/> holds on every probe (every 100 ms) for the whole of <paramref name="period"/>
    /// ("stays on HTTP for 2 s"); throws <see cref="InvalidOperationException"/> at the first probe where it does not, with
    /// what was observed and when.
    /// </summary>
    public static async Task HoldsForAsync<T>(Func<T> probe, Func<T, bool> condition, TimeSpan period, string what, CancellationToken cancellationToken = default, Func<T, string>? describe = null)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(condition);
        var clock = TimeProvider.System;
        var started = clock.GetTimestamp();
        while (true)
        {
            var now = probe();
            if (!condition(now))
            {
                throw new InvalidOperationException($"Expected {what} for {Seconds(period)}, but after {Seconds(clock.GetElapsedTime(started))}: {(describe ?? Describe)(now)}");
            }

            if (clock.GetElapsedTime(started) >= period)
            {
                return;
            }

            await Task.Delay(HoldsForInterval, clock, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Seconds(TimeSpan t) => $"{t.TotalSeconds:0.#} s";

    private static string Describe<T>(T value) => value switch
    {
        null => "null",
        IEnumerable items and not string => "[" + string.Join(", ", items.Cast<object?>().Take(10)) + "]",
        _ => value.ToString() ?? "",
    };
}
