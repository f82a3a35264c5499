using System.Text.Json;
using System.Text.Json.Serialization;
using Tcm.Gateway.Certificates;
using Tcm.Protocol;

namespace Tcm.Gateway.Diagnostics;

/// <summary><c>GET /gateway/status</c>: the gateway's counters (<see cref="GatewayTotals"/>, shared with its reports to the NS) and its process figures.</summary>
public sealed record GatewayStatus : GatewayTotals
{
    public required string Name { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset Now { get; init; }
    public IReadOnlyDictionary<string, long> RejectionsByCode { get; set; } = new Dictionary<string, long>();
    /// <summary>Each backend's tunnels and requests, as the reports to the NS carry them.</summary>
    public IReadOnlyList<GatewayBackendCounters> Backends { get; set; } = [];
    /// <summary>Managed heap (after a full compacting collection when asked with <c>?collect=true</c>) and process working set, in bytes.</summary>
    public long ManagedBytes { get; init; }
    public long WorkingSetBytes { get; init; }
    /// <summary>The gateway's process id and its CPU time so far (user + kernel), for capacity planning and load tests.</summary>
    public int ProcessId { get; init; }
    public double CpuTimeMs { get; init; }
}

/// <summary>Source-generated JSON of the gateway's own contracts.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, UseStringEnumConverter = true, WriteIndented = false)]
[JsonSerializable(typeof(GatewayStatus))]
[JsonSerializable(typeof(CertificateList))]
[JsonSerializable(typeof(CertificateDecisions))]
public sealed partial class GatewayJsonContext : JsonSerializerContext;
