using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tcm.Features.Runner;

/// <summary>
/// Collects scenario results (thread-safe) and writes them in the standard cucumber-json format: an array of features,
/// each with its scenarios as "elements", each with "steps" carrying result.status (passed, failed, skipped, undefined,
/// pending; an ambiguous step is written as failed) and result.duration in nanoseconds, tags, before/after hooks.
/// Background steps are written inline in each scenario. <see cref="WriteTo"/> replaces the whole file atomically, so
/// the file is valid JSON at every moment.
/// </summary>
internal sealed class CucumberJsonReport
{
    /// <summary>Environment variable naming the folder (or the .json file) the report goes to.</summary>
    public const string PathVariable = "TCM_CUCUMBER_JSON";

    private readonly Lock _gate = new();
    private readonly List<ScenarioResult> _results = [];

    /// <summary>Number of scenarios collected.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _results.Count;
            }
        }
    }

    /// <summary>Where the report goes: $TCM_CUCUMBER_JSON/cucumber.json (or the file it names), else TestResults/cucumber.json under the current directory.</summary>
    public static string DefaultPath() =>
        ResolvePath(Environment.GetEnvironmentVariable(PathVariable), Environment.CurrentDirectory);

    /// <summary>The report path for a configured value (a folder, or a file ending in .json) and a working directory.</summary>
    public static string ResolvePath(string? configured, string workingDirectory)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            var path = Path.Combine(workingDirectory, configured);
            return Path.GetFullPath(path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? path : Path.Combine(path, "cucumber.json"));
        }

        return Path.GetFullPath(Path.Combine(workingDirectory, "TestResults", "cucumber.json"));
    }

    /// <summary>Adds (or replaces, for the same scenario) one result.</summary>
    public void Add(ScenarioResult result)
    {
        lock (_gate)
        {
            _results.RemoveAll(r => r.Scenario.Feature.Uri == result.Scenario.Feature.Uri && r.Scenario.Key == result.Scenario.Key);
            _results.Add(result);
        }
    }

    /// <summary>The report as JSON text.</summary>
    public string ToJson()
    {
        ScenarioResult[] results;
        lock (_gate)
        {
            results = [.. _results];
        }

        return ToJson(results);
    }

    /// <summary>Writes the whole report to <paramref name="path"/> through a temporary file and a rename.</summary>
    public void WriteTo(string path)
    {
        var json = ToJson();
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temporary, json, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The cucumber-json text for <paramref name="results"/>, features in order of first appearance.</summary>
    public static string ToJson(IEnumerable<ScenarioResult> results)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartArray();
            foreach (var feature in results.GroupBy(r => r.Scenario.Feature.Uri))
            {
                WriteFeature(json, feature.First().Scenario.Feature, [.. feature]);
            }

            json.WriteEndArray();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteFeature(Utf8JsonWriter json, FeatureInfo feature, IReadOnlyList<ScenarioResult> scenarios)
    {
        json.WriteStartObject();
        json.WriteString("uri", feature.Uri);
        json.WriteString("id", Slug(feature.Title));
        json.WriteString("keyword", feature.Keyword);
        json.WriteString("name", feature.Title);
        json.WriteString("description", feature.Description);
        json.WriteNumber("line", feature.Line);
        WriteTags(json, feature.Tags);
        json.WriteStartArray("elements");
        foreach (var scenario in scenarios)
        {
            WriteScenario(json, scenario);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteScenario(Utf8JsonWriter json, ScenarioResult result)
    {
        var scenario = result.Scenario;
        json.WriteStartObject();
        json.WriteString(
            "id",
            $"{Slug(scenario.Feature.Title)};{Slug(scenario.Name)}" + (scenario.ExampleLine is { } row ? $";;{row}" : ""));
        json.WriteString("keyword", scenario.Keyword);
        json.WriteString("name", scenario.Name);
        json.WriteString("description", scenario.Description);
        json.WriteNumber("line", scenario.ExampleLine ?? scenario.Line);
        json.WriteString("type", "scenario");
        WriteTags(json, scenario.Tags);
        WriteHooks(json, "before", result.BeforeHooks);
        json.WriteStartArray("steps");
        foreach (var step in result.Steps)
        {
            WriteStep(json, step);
        }

        json.WriteEndArray();
        WriteHooks(json, "after", result.AfterHooks);
        json.WriteEndObject();
    }

    private static void WriteStep(Utf8JsonWriter json, StepResult result)
    {
        var step = result.Step;
        json.WriteStartObject();
        json.WriteString("keyword", step.Keyword);
        json.WriteString("name", step.Text);
        json.WriteNumber("line", step.Line);
        if (step.Table is { } table)
        {
            json.WriteStartArray("rows");
            foreach (var row in table.AllRows)
            {
                json.WriteStartObject();
                json.WriteStartArray("cells");
                foreach (var cell in row)
                {
                    json.WriteStringValue(cell);
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        if (step.DocString is { } docString)
        {
            json.WriteStartObject("doc_string");
            json.WriteString("value", docString.Content);
            json.WriteString("content_type", docString.ContentType);
            json.WriteNumber("line", docString.Line);
            json.WriteEndObject();
        }

        if (result.Binding is { } binding)
        {
            json.WriteStartObject("match");
            json.WriteString("location", binding.Location);
            json.WriteEndObject();
        }

        var message = result.Status switch
        {
            ExecutionStatus.Ambiguous => "Ambiguous step; candidates:\n" + string.Join("\n", result.Candidates!.Select(c => c.ToString())),
            ExecutionStatus.Undefined => result.Snippet,
            _ => result.Error?.ToString(),
        };
        WriteResult(json, result.Status, result.Duration, message);
        json.WriteEndObject();
    }

    private static void WriteHooks(Utf8JsonWriter json, string name, IReadOnlyList<HookResult> hooks)
    {
        if (hooks.Count == 0)
        {
            return;
        }

        json.WriteStartArray(name);
        foreach (var hook in hooks)
        {
            json.WriteStartObject();
            json.WriteStartObject("match");
            json.WriteString("location", hook.Hook.Location);
            json.WriteEndObject();
            WriteResult(json, hook.Status, hook.Duration, hook.Error?.ToString());
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteResult(Utf8JsonWriter json, ExecutionStatus status, TimeSpan duration, string? message)
    {
        json.WriteStartObject("result");
        json.WriteString("status", StatusText(status));
        if (status is not (ExecutionStatus.Skipped or ExecutionStatus.Undefined))
        {
            json.WriteNumber("duration", duration.Ticks * 100);
        }

        if (message is not null)
        {
            json.WriteString("error_message", message);
        }

        json.WriteEndObject();
    }

    /// <summary>The cucumber-json status word.</summary>
    public static string StatusText(ExecutionStatus status) => status switch
    {
        ExecutionStatus.Passed => "passed",
        ExecutionStatus.Skipped => "skipped",
        ExecutionStatus.Undefined => "undefined",
        ExecutionStatus.Pending => "pending",
        _ => "failed",
    };

    private static void WriteTags(Utf8JsonWriter json, IReadOnlyList<string> tags)
    {
        json.WriteStartArray("tags");
        foreach (var tag in tags)
        {
            json.WriteStartObject();
            json.WriteString("name", "@" + tag);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static string Slug(string text) =>
        string.Join("-", text.ToLowerInvariant().Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)).Replace(";", "", StringComparison.Ordinal);
}
