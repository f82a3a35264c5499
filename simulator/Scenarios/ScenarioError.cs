namespace Tcm.Simulator.Scenarios;

/// <summary>A problem in a scenario file: where it is (1-based line and column) and what was expected.</summary>
/// <param name="File">The file name as given to the loader.</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
/// <param name="Message">What is wrong and what was expected, e.g. <c>'share' must be a percentage like 25% (got 'lots')</c>.</param>
internal sealed record ScenarioError(string File, int Line, int Column, string Message)
{
    /// <summary><c>file:line:column: message</c>, the form compilers use, so editors can jump to it.</summary>
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}

/// <summary>The outcome of loading a scenario: the model, or every error found (never both).</summary>
internal sealed record ScenarioLoadResult
{
    public Scenario? Scenario { get; init; }
    public IReadOnlyList<ScenarioError> Errors { get; init; } = [];

    public bool Succeeded => Scenario is not null && Errors.Count == 0;
}

/// <summary>Thrown by <see cref="ScenarioLoader.LoadOrThrow"/> when a file has errors.</summary>
internal sealed class ScenarioException(IReadOnlyList<ScenarioError> errors)
    : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<ScenarioError> Errors { get; } = errors;
}

/// <summary>"Did you mean" suggestions by edit distance.</summary>
internal static class Suggestions
{
    /// <summary>The candidate closest to <paramref name="word"/> (case-insensitive), if it is close enough to be a likely typo.</summary>
    public static string? Closest(string word, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var d = Distance(word.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (d < bestDistance)
            {
                bestDistance = d;
                best = candidate;
            }
        }

        var limit = Math.Max(2, word.Length / 3);
        return bestDistance <= limit ? best : null;
    }

    /// <summary>"; did you mean 'x'?" or "; expected one of: a, b, c".</summary>
    public static string Hint(string word, IReadOnlyCollection<string> candidates)
    {
        var closest = Closest(word, candidates);
        if (closest is not null)
        {
            return $"; did you mean '{closest}'?";
        }

        return candidates.Count == 0 ? "" : $"; expected one of: {string.Join(", ", candidates)}";
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
