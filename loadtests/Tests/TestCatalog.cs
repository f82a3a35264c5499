namespace Tcm.LoadTests.Tests;

/// <summary>Every load test of this build.</summary>
internal static class TestCatalog
{
    /// <summary>The tests, in the order <c>list</c> shows them.</summary>
    public static IReadOnlyList<ILoadTest> All { get; } =
    [
        new ConnectStormTest(),
        new PushFanoutTest(),
        new PushFanoutRateTest(),
        new IdleHoldTest(),
        new PollingVsChannelTest(),
        new ReconnectStormTest(),
    ];

    /// <summary>The test called <paramref name="name"/>, or null.</summary>
    public static ILoadTest? Find(string name) => All.FirstOrDefault(t => t.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
}
