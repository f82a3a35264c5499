using System.Text.Json;
using System.Text.Json.Serialization;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.AdminConsole;

/// <summary><c>POST /console/api/login</c>: the admin key.</summary>
internal sealed record ConsoleLogin
{
    public string? Key { get; init; }
}

/// <summary>What the console's live feed sends once a second: the fleet's counts and the TCM setting.</summary>
internal sealed record FleetSnapshot
{
    public required DateTimeOffset At { get; init; }
    public required FleetSummary Fleet { get; init; }
    public bool TcmEnabled { get; init; }
    public required string ServerName { get; init; }
}

/// <summary>Source-generated JSON metadata for the console's own types.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ConsoleLogin))]
[JsonSerializable(typeof(FleetSnapshot))]
internal sealed partial class ConsoleJsonContext : JsonSerializerContext;
