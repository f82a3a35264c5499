using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tcm.Gateway.Certificates;
using Tcm.Gateway.Relay;
using Tcm.Protocol;

namespace Tcm.Gateway.Diagnostics;

/// <summary>
/// The gateway's own endpoints, behind its admin key (<c>X-Tcm-Admin-Key</c>, <c>Authorization: Bearer</c>, or <c>?key=</c> for
/// the page in a browser): status JSON, a self-contained status page, and the approval of held certificates.
/// </summary>
internal static class StatusEndpoints
{
    public static void MapGatewayEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(GatewayPaths.Root).AddEndpointFilter<AdminKeyFilter>();
        group.MapGet("/status", (StatusBuilder status, bool? collect) => Results.Json(status.Build(collect == true), GatewayJsonContext.Default.GatewayStatus))
            .WithName("GatewayStatus").WithSummary("The gateway's counters; ?collect=true runs a full garbage collection first, so ManagedBytes is the live heap (benchmarks)");
        group.MapGet("/status/page", (StatusBuilder status) => Results.Content(StatusPage.Render(status.Build()), "text/html; charset=utf-8"))
            .WithName("GatewayStatusPage").WithSummary("The gateway's status page");
        group.MapGet("/admin/certificates", (CertificateApprovals approvals) => Results.Json(approvals.List(), GatewayJsonContext.Default.CertificateList))
            .WithName("GatewayCertificates").WithSummary("Held, approved and blocked client certificates");
        group.MapPost("/admin/certificates/{thumbprint}/approve", (string thumbprint, CertificateApprovals approvals) =>
            approvals.Approve(thumbprint) ? Results.NoContent() : NotFound(thumbprint))
            .WithName("ApproveCertificate").WithSummary("Approve a held certificate");
        group.MapPost("/admin/certificates/{thumbprint}/block", (string thumbprint, CertificateApprovals approvals) =>
            approvals.Block(thumbprint) ? Results.NoContent() : NotFound(thumbprint))
            .WithName("BlockCertificate").WithSummary("Block a certificate");
    }

    private static IResult NotFound(string thumbprint) =>
        Results.Json(new ErrorBody { Code = "unknown-certificate", Detail = $"certificate {thumbprint} is neither held nor decided on this gateway" },
            ProtocolJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status404NotFound);
}

/// <summary>Builds <see cref="GatewayStatus"/> from the counters.</summary>
internal sealed class StatusBuilder(RelayServices services, CertificateApprovals approvals, GatewayStartTime started)
{
    public GatewayStatus Build(bool collect = false)
    {
        var metrics = services.Metrics;
        if (collect)
        {
            // The live heap, as the Notification Server's diagnostics measure it: compacting, large objects included.
            System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        }

        using var process = Process.GetCurrentProcess();
        return new GatewayStatus
        {
            Name = services.GatewayName,
            StartedAt = started.At,
            Now = services.Time.GetUtcNow(),
            AgentsConnected = metrics.AgentsConnected,
            TunnelsOpen = services.Backends.All.Sum(b => b.OpenTunnels),
            ConnectsTotal = metrics.ConnectsTotal,
            ConnectsPerSecond = metrics.ConnectsPerSecond,
            RejectionsTotal = metrics.RejectionsTotal,
            RejectionsPerSecond = metrics.RejectionsPerSecond,
            RejectionsByCode = new Dictionary<string, long>(metrics.RejectionsByCode),
            HandshakeFailures = metrics.HandshakeFailures,
            BytesToBackends = metrics.BytesToBackends,
            BytesToAgents = metrics.BytesToAgents,
            CertificatesHeld = approvals.HeldCount,
            CertificatesApproved = approvals.ApprovedCount,
            CertificatesBlocked = approvals.BlockedCount,
            Backends = [.. services.Backends.All.Select(b => new GatewayBackendCounters(b.Name, b.Address, b.Kind.ToString(), b.OpenTunnels, b.TotalTunnels, b.Requests))],
            ManagedBytes = GC.GetTotalMemory(forceFullCollection: collect),
            WorkingSetBytes = process.WorkingSet64,
            ProcessId = Environment.ProcessId,
            CpuTimeMs = process.TotalProcessorTime.TotalMilliseconds,
        };
    }
}

/// <summary>When the gateway started.</summary>
internal sealed record GatewayStartTime(DateTimeOffset At);

/// <summary>The status page: one self-contained HTML document (no scripts from elsewhere, no CDN); it reloads itself every 5 s.</summary>
internal static class StatusPage
{
    public static string Render(GatewayStatus s)
    {
        static string E(string? text) => WebUtility.HtmlEncode(text ?? "");
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"5\">")
            .Append("<title>TCM gateway ").Append(E(s.Name)).Append("</title><style>")
            .Append("body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}")
            .Append("td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}")
            .Append("</style></head><body><h1>CEM Internet Gateway &lsquo;").Append(E(s.Name)).Append("&rsquo;</h1>")
            .Append("<p>Started ").Append(E(s.StartedAt.ToString("u"))).Append(", now ").Append(E(s.Now.ToString("u"))).Append("</p><table>");
        void Row(string name, string value) => html.Append("<tr><th>").Append(E(name)).Append("</th><td class=\"n\">").Append(E(value)).Append("</td></tr>");
        Row("Agents connected", s.AgentsConnected.ToString("N0"));
        Row("Tunnels open", s.TunnelsOpen.ToString("N0"));
        Row("Connects per second", s.ConnectsPerSecond.ToString("N1"));
        Row("Rejections per second", s.RejectionsPerSecond.ToString("N1"));
        Row("Connects (total)", s.ConnectsTotal.ToString("N0"));
        Row("Rejections (total)", s.RejectionsTotal.ToString("N0"));
        Row("TLS handshake failures", s.HandshakeFailures.ToString("N0"));
        Row("Bytes to backends", s.BytesToBackends.ToString("N0"));
        Row("Bytes to agents", s.BytesToAgents.ToString("N0"));
        Row("Certificates held / approved / blocked", $"{s.CertificatesHeld} / {s.CertificatesApproved} / {s.CertificatesBlocked}");
        Row("Managed heap (MB)", (s.ManagedBytes / 1048576.0).ToString("N1"));
        Row("Working set (MB)", (s.WorkingSetBytes / 1048576.0).ToString("N1"));
        html.Append("</table><h2>Backends</h2><table><tr><th>Name</th><th>Address</th><th>Kind</th><th>Tunnels open</th><th>Tunnels total</th><th>Requests</th></tr>");
        foreach (var b in s.Backends)
        {
            html.Append("<tr><td>").Append(E(b.Name)).Append("</td><td>").Append(E(b.Address)).Append("</td><td>").Append(E(b.Kind))
                .Append("</td><td class=\"n\">").Append(b.TunnelsOpen.ToString("N0")).Append("</td><td class=\"n\">").Append(b.TunnelsTotal.ToString("N0"))
                .Append("</td><td class=\"n\">").Append(b.Requests.ToString("N0")).Append("</td></tr>");
        }

        html.Append("</table><h2>Rejections by reason</h2><table><tr><th>Code</th><th>Count</th></tr>");
        foreach (var (code, count) in s.RejectionsByCode.OrderByDescending(p => p.Value))
        {
            html.Append("<tr><td>").Append(E(code)).Append("</td><td class=\"n\">").Append(count.ToString("N0")).Append("</td></tr>");
        }

        return html.Append("</table></body></html>").ToString();
    }
}

/// <summary>
/// Requires the gateway's admin key as every server takes it (<see cref="Tcm.Hosting.Admin.AdminKey"/>), or as <c>?key=</c> for
/// the status page a browser opens; answers 401 <c>admin-key-required</c> otherwise.
/// </summary>
internal sealed class AdminKeyFilter(Tcm.Hosting.Admin.AdminKey key) : IEndpointFilter
{
    public const string KeyRequired = Tcm.Hosting.Admin.AdminKey.KeyRequired;

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        var presented = Tcm.Hosting.Admin.AdminKey.Presented(request) ?? request.Query["key"].ToString();
        return key.IsValid(presented)
            ? next(context)
            : ValueTask.FromResult<object?>(Tcm.Hosting.Admin.AdminKey.Refusal(context.HttpContext,
                $"send the gateway's admin key in the {ProtocolConstants.AdminKeyHeader} header, as 'Authorization: Bearer <key>', or as ?key= for the page"));
    }
}
