using Tcm.Features.Runner;
using Xunit.Abstractions;

namespace Tcm.Features.RunnerTests;

/// <summary>Collects what the runner writes to the test output.</summary>
internal sealed class CapturedOutput : ITestOutputHelper
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public string Text => string.Join("\n", Lines);

    public void WriteLine(string message)
    {
        lock (_lines)
        {
            _lines.AddRange(message.Split('\n'));
        }
    }

    public void WriteLine(string format, params object[] args) => WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
}

/// <summary>What the test bindings did, kept in the feature context the test hands to the engine.</summary>
internal sealed class Journal
{
    private readonly List<string> _entries = [];

    public IReadOnlyList<string> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public void Add(string entry)
    {
        lock (_entries)
        {
            _entries.Add(entry);
        }
    }
}

internal static class InMemory
{
    /// <summary>The only scenario of <paramref name="featureText"/>.</summary>
    public static ScenarioPickle Scenario(string featureText) => FeatureParser.Parse(featureText, "test.feature").Scenarios.Single();

    /// <summary>A feature context holding a fresh <see cref="Journal"/>.</summary>
    public static (FeatureContext Context, Journal Journal) Context(ScenarioPickle scenario)
    {
        var context = new FeatureContext(scenario.Feature);
        var journal = new Journal();
        context.Set(journal);
        return (context, journal);
    }
}
