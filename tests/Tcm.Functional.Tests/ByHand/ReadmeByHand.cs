using System.Text;
using System.Text.RegularExpressions;

namespace Tcm.Functional.Tests.ByHand;

/// <summary>One command of the README's by-hand block, split into words as a shell would (quotes removed, <c>\</c> lines joined).</summary>
/// <param name="Line">The README line the command starts on (1-based), for messages.</param>
/// <param name="Words">The words; a <c>NAME=$(cat file)</c> assignment is <c>["set", NAME, file]</c>.</param>
internal sealed record ByHandCommand(int Line, IReadOnlyList<string> Words)
{
    /// <summary>How the README starts the <c>tcm</c> executable; the words after it are <c>tcm</c>'s arguments.</summary>
    public static readonly string[] TcmPrefix = ["dotnet", "run", "--project", "system/Tcm.Host", "--"];

    public override string ToString() => $"README.md:{Line}: {string.Join(' ', Words)}";
}

/// <summary>
/// The README's "Run the servers and an agent by hand" block as commands in order, so the by-hand test runs what the README says
/// rather than a copy of it: a changed flag, path or body in the README is what the test runs, and a command it does not know
/// fails it.
/// </summary>
internal static partial class ReadmeByHand
{
    /// <summary>The heading of the section whose first <c>bash</c> block is read.</summary>
    public const string Section = "## Run the servers and an agent by hand";

    /// <summary>The README of the checkout the tests were built from (the folder with <c>TCM.sln</c> above the build output).</summary>
    public static string ReadmePath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TCM.sln")))
            {
                return Path.Combine(dir.FullName, "README.md");
            }
        }

        throw new InvalidOperationException($"cannot find TCM.sln above {AppContext.BaseDirectory}: run the tests from a checkout of the repository");
    }

    /// <summary>The commands of the section's first <c>bash</c> block of <paramref name="markdown"/>, in order.</summary>
    public static Queue<ByHandCommand> Parse(string markdown)
    {
        var lines = markdown.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        var section = Array.IndexOf(lines, Section);
        if (section < 0)
        {
            throw new InvalidOperationException($"the README has no section '{Section}'");
        }

        var open = Array.FindIndex(lines, section, l => l == "```bash");
        var close = open < 0 ? -1 : Array.FindIndex(lines, open + 1, l => l == "```");
        if (open < 0 || close < 0)
        {
            throw new InvalidOperationException($"the README's section '{Section}' has no closed ```bash block");
        }

        var commands = new Queue<ByHandCommand>();
        for (var i = open + 1; i < close; i++)
        {
            var start = i;
            var text = lines[i].Trim();
            while (text.EndsWith('\\') && i + 1 < close)
            {
                text = text[..^1] + " " + lines[++i].Trim();
            }

            if (text.Length == 0 || text.StartsWith('#'))
            {
                continue;
            }

            var assignment = Assignment().Match(text);
            commands.Enqueue(new ByHandCommand(start + 1, assignment.Success
                ? ["set", assignment.Groups["name"].Value, assignment.Groups["file"].Value]
                : Words(text, start + 1)));
        }

        return commands;
    }

    /// <summary>Takes the next command, which must begin with <paramref name="prefix"/>, and returns the words after the prefix.</summary>
    public static IReadOnlyList<string> Take(this Queue<ByHandCommand> commands, string step, params string[] prefix)
    {
        if (!commands.TryDequeue(out var command))
        {
            throw new InvalidOperationException($"the README's by-hand block ended before {step} ('{string.Join(' ', prefix)} ...')");
        }

        if (command.Words.Count < prefix.Length || !command.Words.Take(prefix.Length).SequenceEqual(prefix, StringComparer.Ordinal))
        {
            throw new InvalidOperationException($"{step}: expected the README's next command to start with '{string.Join(' ', prefix)}', found {command}");
        }

        return command.Words.Skip(prefix.Length).ToArray();
    }

    /// <summary>Takes the next command, which must start <c>tcm</c> with <paramref name="tcmWords"/>, and returns <c>tcm</c>'s arguments.</summary>
    public static IReadOnlyList<string> TakeTcm(this Queue<ByHandCommand> commands, string step, params string[] tcmWords)
    {
        var after = commands.Take(step, [.. ByHandCommand.TcmPrefix, .. tcmWords]);
        return [.. tcmWords, .. after];
    }

    /// <summary>
    /// The request a <c>curl</c> command of the block makes (its words after <c>curl</c>: <c>-s</c>/<c>-k</c> flags, <c>-X</c>, <c>-H</c>,
    /// <c>-d</c> and the URL), sent to <paramref name="server"/> in place of the URL's own scheme, host and port, with
    /// <c>$NAME</c> in headers replaced from <paramref name="variables"/>.
    /// </summary>
    public static HttpRequestMessage Curl(IReadOnlyList<string> words, Uri server, IReadOnlyDictionary<string, string> variables)
    {
        string? method = null, url = null, body = null;
        var headers = new List<(string Name, string Value)>();
        for (var i = 0; i < words.Count; i++)
        {
            switch (words[i])
            {
                case "-s" or "-k" or "-sk" or "-ks":
                    break;
                case "-X" when i + 1 < words.Count:
                    method = words[++i];
                    break;
                case "-H" when i + 1 < words.Count:
                    var header = words[++i];
                    var colon = header.IndexOf(':', StringComparison.Ordinal);
                    var value = header[(colon + 1)..].Trim();
                    foreach (var (name, text) in variables)
                    {
                        value = value.Replace("$" + name, text, StringComparison.Ordinal);
                    }

                    headers.Add((header[..colon].Trim(), value));
                    break;
                case "-d" when i + 1 < words.Count:
                    body = words[++i];
                    break;
                case var word when word.StartsWith("https://", StringComparison.Ordinal) && url is null:
                    url = word;
                    break;
                default:
                    throw new InvalidOperationException($"curl {string.Join(' ', words)}: the by-hand test does not know '{words[i]}'");
            }
        }

        var documented = new Uri(url ?? throw new InvalidOperationException($"curl {string.Join(' ', words)}: no https:// URL"));
        var request = new HttpRequestMessage(new HttpMethod(method ?? (body is null ? "GET" : "POST")), new Uri(server, documented.PathAndQuery));
        var contentType = headers.FirstOrDefault(h => h.Name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)).Value;
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, contentType ?? "application/x-www-form-urlencoded");
        }

        foreach (var (name, value) in headers.Where(h => !h.Name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)))
        {
            request.Headers.Add(name, value);
        }

        return request;
    }

    // Single quotes keep everything; double quotes keep everything too ($KEY is put in by the test, as the shell would).
    private static List<string> Words(string text, int line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is '\'' or '"')
            {
                var end = text.IndexOf(c, i + 1);
                if (end < 0)
                {
                    throw new InvalidOperationException($"README.md:{line}: an unclosed {c} in: {text}");
                }

                word.Append(text, i + 1, end - i - 1);
                inWord = true;
                i = end;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words;
    }

    [GeneratedRegex(@"^(?<name>[A-Z_]+)=\$\(cat (?<file>[^)\s]+)\)$")]
    private static partial Regex Assignment();
}
