using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tcm.LoadTests.Harness.Reports;

/// <summary>The JSON report: everything, and the input for merging shards.</summary>
internal static class JsonReport
{
    /// <summary>Serializer options: camelCase, indented, enums as strings.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The report as JSON.</summary>
    public static string Write(LoadTestReport report) => JsonSerializer.Serialize(report, Options);

    /// <summary>Reads a report written by <see cref="Write"/>.</summary>
    public static LoadTestReport Read(string json) =>
        JsonSerializer.Deserialize<LoadTestReport>(json, Options) ?? throw new JsonException("The report is empty.");
}
