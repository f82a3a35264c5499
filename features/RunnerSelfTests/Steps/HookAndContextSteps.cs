using FluentAssertions;
using Tcm.Features.Runner;

namespace Tcm.Features.RunnerSelfTests.Steps;

/// <summary>A per-scenario context object that counts how many were created and disposed in the process.</summary>
internal sealed class WordBag : IDisposable
{
    private static int s_created;
    private static int s_disposed;

    public WordBag() => Interlocked.Increment(ref s_created);

    public static int Created => Volatile.Read(ref s_created);

    public static int Disposed => Volatile.Read(ref s_disposed);

    public List<string> Words { get; } = [];

    public void Dispose() => Interlocked.Increment(ref s_disposed);
}

/// <summary>Which hooks ran in this scenario.</summary>
internal sealed class HookLog
{
    public List<string> Ran { get; } = [];
}

/// <summary>Lives in the feature context: scenarios counted by the feature's own context.</summary>
internal sealed class FeatureCounter
{
    public int Scenarios { get; set; }
}

/// <summary>One row of "the words:".</summary>
internal sealed record WordRow(string Word, int Count);

[Binding]
internal sealed class HookBindings(HookLog log)
{
    private static readonly Dictionary<string, (int BeforeFeatureRuns, int Scenarios)> s_counts = [];

    /// <summary>How often the before-feature hook ran, and how many scenarios started, per feature file in this process.</summary>
    public static (int BeforeFeatureRuns, int Scenarios) Counts(FeatureInfo feature)
    {
        lock (s_counts)
        {
            return s_counts.GetValueOrDefault(feature.Uri);
        }
    }

    [BeforeFeature("hooks")]
    public static void CountFeature(FeatureContext feature)
    {
        lock (s_counts)
        {
            var counts = s_counts.GetValueOrDefault(feature.FeatureInfo.Uri);
            s_counts[feature.FeatureInfo.Uri] = counts with { BeforeFeatureRuns = counts.BeforeFeatureRuns + 1 };
        }

        feature.Set(new FeatureCounter());
    }

    [BeforeScenario("hooks", Order = 1)]
    public void CountScenario(FeatureContext feature)
    {
        log.Ran.Add("hooks");
        feature.Get<FeatureCounter>().Scenarios++;
        lock (s_counts)
        {
            var counts = s_counts.GetValueOrDefault(feature.FeatureInfo.Uri);
            s_counts[feature.FeatureInfo.Uri] = counts with { Scenarios = counts.Scenarios + 1 };
        }
    }

    [BeforeScenario("never-used")]
    public void NeverUsed() => log.Ran.Add("never-used");

    [BeforeScenario("with-bag")]
    public async Task SeedTheBag(WordBag bag)
    {
        await Task.Yield();
        bag.Words.Add("seed");
    }
}

[Binding]
internal sealed class WordBagSteps(WordBag bag, HookLog log, ScenarioContext scenario)
{
    [StepDefinition("^the word \"([^\"]*)\" is put in the bag$")]
    public void PutWord(string word)
    {
        bag.Words.Add(word);
        scenario["first bag"] = bag;
    }

    [Given("^the words:$")]
    public void GivenTheWords(DataTable table)
    {
        foreach (var row in table.CreateSet<WordRow>())
        {
            bag.Words.AddRange(Enumerable.Repeat(row.Word, row.Count));
        }
    }

    [Then(@"^the bag holds (\d+) words?$")]
    public void ThenTheBagHolds(int count) => bag.Words.Should().HaveCount(count);

    [Then("^the \"([^\"]*)\" before-scenario hook has run$")]
    public void ThenTheHookHasRun(string tag) => log.Ran.Should().Contain(tag);

    [Then("^the \"([^\"]*)\" before-scenario hook has not run$")]
    public void ThenTheHookHasNotRun(string tag) => log.Ran.Should().NotContain(tag);

    [Then("^every bag but this scenario's has been disposed$")]
    public void ThenEveryBagButThisOneHasBeenDisposed() => WordBag.Disposed.Should().Be(WordBag.Created - 1);

    [Then("^the scenario context has the title \"([^\"]*)\"$")]
    public void ThenTheScenarioContextHasTheTitle(string title) => scenario.ScenarioInfo.Title.Should().Be(title);

    [Then("^the scenario context has the tags \"([^\"]*)\"$")]
    public void ThenTheScenarioContextHasTheTags(string tags) =>
        scenario.ScenarioInfo.Tags.Should().Equal(tags.Split(',', StringSplitOptions.TrimEntries));

    [Then("^the before-feature hook ran once$")]
    public void ThenTheBeforeFeatureHookRanOnce() => HookBindings.Counts(scenario.FeatureContext.FeatureInfo).BeforeFeatureRuns.Should().Be(1);

    [Then("^the feature context has counted every scenario of this feature so far$")]
    public void ThenTheFeatureContextHasCountedEveryScenario() =>
        scenario.FeatureContext.Get<FeatureCounter>().Scenarios.Should().Be(HookBindings.Counts(scenario.FeatureContext.FeatureInfo).Scenarios).And.BeGreaterThan(0);
}

[Binding]
internal sealed class OtherWordBagSteps(WordBag bag, ScenarioContext scenario)
{
    [When("^the word \"([^\"]*)\" is put in the bag by another binding class$")]
    public async Task WhenTheWordIsPutInTheBagByAnotherBindingClass(string word)
    {
        await Task.Delay(1);
        bag.Words.Add(word);
    }

    [Then("^both binding classes saw the same bag$")]
    public void ThenBothBindingClassesSawTheSameBag() => scenario["first bag"].Should().BeSameAs(bag);
}
