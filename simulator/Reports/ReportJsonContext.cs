using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tcm.Simulator.Reports;

/// <summary>Source-generated JSON for <see cref="SimulationReport"/> (camelCase, enums as strings, indented).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SimulationReport))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;
