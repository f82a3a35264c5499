namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>Waits for a condition with a deadline: no sleeps that guess how long something takes.</summary>
internal static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    public static async Task<T> WaitAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, string because, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        var delay = TimeSpan.FromMilliseconds(10);
        while (true)
        {
            var value = await probe();
            if (condition(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {because}; last value: {value}");
            }

            await Task.Delay(delay);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 200));
        }
    }

    public static Task WaitAsync(Func<bool> condition, string because, TimeSpan? timeout = null) =>
        WaitAsync(() => Task.FromResult(condition()), ok => ok, because, timeout);
}
