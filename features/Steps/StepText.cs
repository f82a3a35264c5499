using System.Text.RegularExpressions;

namespace Tcm.Features.Steps;

/// <summary>Pieces of step text shared by the step definitions.</summary>
internal static partial class StepText
{
    /// <summary>One or more quoted agent names: <c>"PC-1"</c>, <c>"PC-1" and "PC-2"</c>, <c>"A", "B" and "C"</c>.</summary>
    public const string AgentList = "(" + AgentNames + ")";

    /// <summary>The same without the capture group, to nest in a group of one's own.</summary>
    public const string AgentNames = "\"[^\"]+\"(?:(?:, | and )\"[^\"]+\")*";

    /// <summary>The names in an <see cref="AgentList"/> capture.</summary>
    public static IReadOnlyList<string> Names(string list) => [.. Quoted().Matches(list).Select(m => m.Groups[1].Value)];

    [GeneratedRegex("\"([^\"]+)\"")]
    private static partial Regex Quoted();
}
