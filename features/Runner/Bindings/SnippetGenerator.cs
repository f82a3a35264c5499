using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Tcm.Features.Runner;

/// <summary>
/// Writes the C# a developer pastes into a <c>[Binding]</c> class to define an undefined step: quoted text becomes a
/// <c>string</c> parameter, whole numbers <c>int</c>, decimals <c>double</c>; a table or doc string adds a last parameter.
/// </summary>
internal static partial class SnippetGenerator
{
    /// <summary>The snippet for <paramref name="step"/>.</summary>
    public static string For(ScenarioStep step)
    {
        var pattern = new StringBuilder("^");
        var name = new StringBuilder(step.Type.ToString());
        var parameters = new List<string>();
        var last = 0;
        foreach (Match token in Token().Matches(step.Text))
        {
            AppendLiteral(step.Text[last..token.Index], pattern, name);
            if (token.Groups["quoted"].Success)
            {
                pattern.Append("\"\"([^\"\"]*)\"\"");
                parameters.Add($"string p{parameters.Count}");
            }
            else if (token.Value.Contains('.'))
            {
                pattern.Append(@"(-?\d+(?:\.\d+)?)");
                parameters.Add($"double p{parameters.Count}");
            }
            else
            {
                pattern.Append(@"(-?\d+)");
                parameters.Add($"int p{parameters.Count}");
            }

            last = token.Index + token.Length;
        }

        AppendLiteral(step.Text[last..], pattern, name);
        pattern.Append('$');
        if (step.Table is not null)
        {
            parameters.Add("DataTable table");
        }
        else if (step.DocString is not null)
        {
            parameters.Add("string docString");
        }

        if (name.Length == step.Type.ToString().Length)
        {
            name.Append("Step");
        }

        return $"[{step.Type}(@\"{pattern}\")]{Environment.NewLine}" +
               $"public void {name}({string.Join(", ", parameters)}){Environment.NewLine}" +
               $"{{{Environment.NewLine}" +
               $"    throw new PendingStepException();{Environment.NewLine}" +
               "}";
    }

    private static void AppendLiteral(string text, StringBuilder pattern, StringBuilder name)
    {
        foreach (var c in text)
        {
            if (@"\*+?|{}[]()^$.#".Contains(c))
            {
                pattern.Append('\\');
            }

            pattern.Append(c == '"' ? "\"\"" : c.ToString());
        }

        foreach (Match word in Word().Matches(text))
        {
            name.Append(char.ToUpper(word.Value[0], CultureInfo.InvariantCulture)).Append(word.Value[1..]);
        }
    }

    [GeneratedRegex(@"""(?<quoted>[^""]*)""|(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")]
    private static partial Regex Token();

    [GeneratedRegex(@"[\p{L}\p{Nd}]+")]
    private static partial Regex Word();
}
