using System.Diagnostics;

namespace Tcm.Testing;

/// <summary>Waits on a condition with a deadline: no sleep-and-hope. Fails with what was last observed. Shared by the test projects that link tests/Shared.</summary>
internal static class Eventually
{
    public static async Task<T> WaitAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan deadline, string what)
    {
        var clock = Stopwatch.StartNew();
        T last = await probe();
        var delay = TimeSpan.FromMilliseconds(20);
        while (!condition(last))
        {
            if (clock.Elapsed > deadline)
            {
                throw new TimeoutException($"Waited {deadline.TotalSeconds:0.#} s for {what}; last observed: {Describe(last)}");
            }

            await Task.Delay(delay);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 1.5, 250));
            last = await probe();
        }

        return last;
    }

    public static Task<T> WaitAsync<T>(Func<T> probe, Func<T, bool> condition, TimeSpan deadline, string what) =>
        WaitAsync(() => Task.FromResult(probe()), condition, deadline, what);

    private static string Describe<T>(T value) => value switch
    {
        null => "null",
        System.Collections.IEnumerable e and not string => "[" + string.Join(", ", e.Cast<object?>().Take(10)) + "]",
        _ => value.ToString() ?? "",
    };
}
