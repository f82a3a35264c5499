using FsCheck;
using FsCheck.Fluent;

namespace Tcm.Agent.Tests;

public sealed class BackoffTests
{
    private static readonly BackoffOptions Default = new();

    [Fact]
    public void Ceiling_DoublesFromInitial_UpToTheCap()
    {
        var backoff = new Backoff(Default);

        backoff.Ceiling(0).Should().Be(TimeSpan.FromSeconds(1));
        backoff.Ceiling(1).Should().Be(TimeSpan.FromSeconds(2));
        backoff.Ceiling(5).Should().Be(TimeSpan.FromSeconds(32));
        backoff.Ceiling(9).Should().Be(TimeSpan.FromMinutes(5));
        backoff.Ceiling(10_000).Should().Be(TimeSpan.FromMinutes(5));
    }

    [Fact]
    public void Next_WithTopRandom_GrowsEachAttempt_AndStaysAtCap()
    {
        var backoff = new Backoff(Default, () => 0.999999);

        var delays = Enumerable.Range(0, 12).Select(_ => backoff.Next()).ToList();

        delays.Should().BeInAscendingOrder();
        delays[0].Should().BeCloseTo(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(1));
        delays[3].Should().BeCloseTo(TimeSpan.FromSeconds(8), TimeSpan.FromMilliseconds(1));
        delays[^1].Should().BeCloseTo(TimeSpan.FromMinutes(5), TimeSpan.FromMilliseconds(1));
        backoff.Attempt.Should().Be(12);
    }

    [Fact]
    public void Next_WithZeroRandom_IsZero_FullJitter()
    {
        var backoff = new Backoff(Default, () => 0);

        backoff.Next().Should().Be(TimeSpan.Zero);
        backoff.Next().Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public void Reset_StartsAgainFromInitial()
    {
        var backoff = new Backoff(Default, () => 0.999999);
        for (var i = 0; i < 6; i++)
        {
            backoff.Next();
        }

        backoff.Reset();

        backoff.Attempt.Should().Be(0);
        backoff.Next().Should().BeLessThanOrEqualTo(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void Next_WithRealRandom_SpreadsDelaysOverTheWindow()
    {
        var delays = Enumerable.Range(0, 200).Select(_ => new Backoff(Default).Next()).ToList();

        delays.Should().OnlyContain(d => d >= TimeSpan.Zero && d <= TimeSpan.FromSeconds(1));
        delays.Distinct().Count().Should().BeGreaterThan(50, "full jitter must spread a fleet's reconnects");
    }

    [Fact]
    public void Options_Invalid_Throw()
    {
        var act = () => new Backoff(new BackoffOptions { Multiplier = 0.5 });

        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void EveryDelay_IsWithinZeroAndCappedExponentialCeiling()
    {
        var cases =
            from initialMs in Gen.Choose(0, 10_000)
            from multiplierTenths in Gen.Choose(10, 40)
            from maxMs in Gen.Choose(0, 600_000)
            from attempts in Gen.Choose(1, 80)
            from seed in Gen.Choose(0, int.MaxValue)
            select (initialMs, multiplierTenths / 10.0, maxMs, attempts, seed);

        var property = Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var (initialMs, multiplier, maxMs, attempts, seed) = c;
            var random = new Random(seed);
            var backoff = new Backoff(
                new BackoffOptions { Initial = TimeSpan.FromMilliseconds(initialMs), Max = TimeSpan.FromMilliseconds(maxMs), Multiplier = multiplier },
                random.NextDouble);
            for (var n = 0; n < attempts; n++)
            {
                var delay = backoff.Next();
                var bound = Math.Min(maxMs, initialMs * Math.Pow(multiplier, n));
                if (delay < TimeSpan.Zero || delay.TotalMilliseconds > bound + 1e-6)
                {
                    return false;
                }
            }

            return true;
        });

        Check.QuickThrowOnFailure(property);
    }
}
