namespace Tcm.LoadTests.Tests;

public sealed class RateSearchTests
{
    /// <summary>Runs the search against a system that carries every rate up to <paramref name="capacity"/>.</summary>
    private static RateSearch Run(double capacity, double first, double ceiling, int refinements)
    {
        var search = new RateSearch(first, ceiling, refinements);
        for (var guard = 0; search.Next is { } rate && guard < 100; guard++)
        {
            search.Record(rate <= capacity);
        }

        search.Next.Should().BeNull("the search ends");
        return search;
    }

    [Fact]
    public void Search_DoublesUntilAFailure_ThenHalvesTheGap()
    {
        var search = Run(capacity: 3.3, first: 1, ceiling: 64, refinements: 4);

        search.Tried.Select(t => t.Rate).Should().Equal(1, 2, 4, 3, 3.5, 3.25, 3.375);
        search.HighestPassed.Should().Be(3.25);
        search.LowestFailed.Should().Be(3.375);
    }

    [Theory]
    [InlineData(0.3, 1, 0.28125)]
    [InlineData(7.9, 1, 7.5)]
    [InlineData(100, 2, 64)]
    public void Search_FindsTheHighestRateThatPasses_NeverOneThatFails(double capacity, double first, double expected)
    {
        var search = Run(capacity, first, ceiling: 64, refinements: 3);

        search.HighestPassed.Should().Be(expected);
        search.Tried.Should().NotContain(t => t.Passed && t.Rate > capacity).And.NotContain(t => !t.Passed && t.Rate <= capacity);
    }

    [Fact]
    public void Search_WhenNothingPasses_StopsAtTheFloor_WithNoRate()
    {
        var search = Run(capacity: 0, first: 1, ceiling: 8, refinements: 3);

        search.HighestPassed.Should().BeNull();
        search.Tried.Should().HaveCount(7, "1, 1/2, ... 1/64, then the floor");
    }

    [Fact]
    public void Search_WhenTheCeilingPasses_Ends()
    {
        var search = Run(capacity: 100, first: 4, ceiling: 10, refinements: 3);

        search.Tried.Select(t => t.Rate).Should().Equal(4, 8, 10);
        search.HighestPassed.Should().Be(10);
    }

    /// <summary>Rate texts and what they read as: per second, or null when not a rate.</summary>
    public static TheoryData<string, double?> RateTexts => new()
    {
        { "2", 2 },
        { "2/s", 2 },
        { "0.5/s", 0.5 },
        { "30/m", 0.5 },
        { "fast", null },
        { "0/s", null },
        { "-1/s", null },
        { "2/h", null },
        { "", null },
    };

    [Theory]
    [MemberData(nameof(RateTexts))]
    public void TryParseRate_TakesPerSecondAndPerMinute_AndRejectsTheRest(string text, double? perSecond)
    {
        RateSearch.TryParseRate(text, out var rate).Should().Be(perSecond is not null);
        rate.Should().Be(perSecond ?? 0);
    }
}
