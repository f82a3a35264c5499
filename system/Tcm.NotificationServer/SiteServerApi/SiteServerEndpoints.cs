using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Tcm.NotificationServer.Admin;
using Tcm.NotificationServer.AgentEndpoints;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Audit;
using Tcm.NotificationServer.Certificates;
using Tcm.NotificationServer.SiteServers;
using static Tcm.NotificationServer.Admin.AdminResults;

namespace Tcm.NotificationServer.SiteServerApi;

/// <summary>
/// <c>POST/GET /tcm/admin/site-servers</c> (admin key) and <c>POST /tcm/site/register</c> (a site server's token and CSR: the NS
/// signs one certificate, <c>CN={name}, OU={kind}</c>).
/// </summary>
internal static partial class SiteServerEndpoints
{
    private const string Json = "application/json";

    public static void MapSiteServers(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup(TcmPaths.Admin).AddEndpointFilter<AdminKeyFilter>().WithTags("Site servers");
        admin.MapPost("/site-servers", async (HttpRequest request, SiteServerDirectory directory, TimeProvider time) =>
        {
            var (body, error) = await ReadAsync(request, ProtocolJsonContext.Default.CreateSiteServerRequest);
            if (error is not null)
            {
                return error;
            }

            var name = body!.Name?.Trim() ?? "";
            if (name.Length is 0 or > 64 || name.AsSpan().IndexOfAny(",=+\"\\<>;#") >= 0)
            {
                return BadRequest("name: 1 to 64 characters, none of , = + \" \\ < > ; # (it becomes the certificate's CN)");
            }

            if (directory.All.Any(s => s.Kind == body.Kind && string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                return Error(StatusCodes.Status409Conflict, "conflict", $"name: a {SiteServerCertificates.KindName(body.Kind)} named '{name}' exists already");
            }

            var (record, token) = await directory.CreateAsync(name, body.Kind, time.GetUtcNow(), request.HttpContext.RequestAborted);
            // why: never the token, which lets the site server register.
            request.HttpContext.AuditChange(record.Name, null, record.ToInfo(), ProtocolJsonContext.Default.SiteServerInfo);
            return Created($"{TcmPaths.Admin}/site-servers/{record.Id}", new SiteServerCreated(record.Id, record.Name, record.Kind, token), ProtocolJsonContext.Default.SiteServerCreated);
        })
            .WithName("CreateSiteServer").WithAdminAccess(Tcm.Protocol.Admin.AdminRole.Administrator, AuditKinds.SiteServer).WithSummary("Allows a site server (Task Server or gateway) to register; the answer shows its registration token once.")
            .Accepts<CreateSiteServerRequest>(Json).Produces<SiteServerCreated>(StatusCodes.Status201Created)
            .Produces<ErrorBody>(StatusCodes.Status400BadRequest).Produces<ErrorBody>(StatusCodes.Status409Conflict);

        admin.MapGet("/site-servers", (SiteServerDirectory directory) =>
            Ok<IReadOnlyList<SiteServerInfo>>([.. directory.All.Select(s => s.ToInfo())], ProtocolJsonContext.Default.IReadOnlyListSiteServerInfo))
            .WithName("ListSiteServers").WithSummary("Site servers, registered or not (never their tokens).").Produces<IReadOnlyList<SiteServerInfo>>();

        endpoints.MapPost(SiteServerPaths.Register, RegisterAsync).ExcludeFromDescription();
    }

    private static async Task RegisterAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var directory = services.GetRequiredService<SiteServerDirectory>();
        var certificates = services.GetRequiredService<SiteServerCertificates>();
        var authority = services.GetRequiredService<CertificateAuthority>();
        var time = services.GetRequiredService<TimeProvider>();
        var logger = services.GetRequiredService<ILogger<SiteServerDirectory>>();

        SiteServerRegisterRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync(context.Request.Body, ProtocolJsonContext.Default.SiteServerRegisterRequest, context.RequestAborted);
        }
        catch (JsonException ex)
        {
            await AgentHttpEndpoints.WriteAsync(context, AgentApiResponse.Error(400, "bad-request", $"body: not a valid SiteServerRegisterRequest: {ex.Message}"));
            return;
        }

        if (request is null)
        {
            await AgentHttpEndpoints.WriteAsync(context, AgentApiResponse.Error(400, "bad-request", "body: a SiteServerRegisterRequest JSON object is required"));
            return;
        }

        var record = directory.FindByToken(request.RegistrationToken);
        if (record is null)
        {
            Log.BadToken(logger, context.Connection.RemoteIpAddress?.ToString());
            await AgentHttpEndpoints.WriteAsync(context, AgentApiResponse.Error(401, "bad-registration-token",
                "the site server's registration token is not valid; an admin creates one with POST /tcm/admin/site-servers"));
            return;
        }

        if (request.MaxAgents is < 1 or > 1_000_000)
        {
            await AgentHttpEndpoints.WriteAsync(context, AgentApiResponse.Error(400, "bad-request", "maxAgents: between 1 and 1000000"));
            return;
        }

        string pem;
        try
        {
            pem = certificates.Sign(request.CertificateSigningRequestPem, record.Name, record.Kind, request.HostNames);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            await AgentHttpEndpoints.WriteAsync(context, AgentApiResponse.Error(400, "bad-request", $"certificateSigningRequestPem/hostNames: {ex.Message}"));
            return;
        }

        using (var issued = X509Certificate2.CreateFromPem(pem))
        {
            await directory.RegisterAsync(record, SiteServerCertificates.Thumbprint(issued), request, time.GetUtcNow(), context.RequestAborted);
        }

        Log.Registered(logger, record.Name, SiteServerCertificates.KindName(record.Kind), record.Id, request.Address);
        var response = new SiteServerRegisterResponse
        {
            Id = record.Id,
            Name = record.Name,
            Kind = record.Kind,
            CertificatePem = pem,
            CaCertificatePem = authority.CertificatePem,
        };
        await AgentHttpEndpoints.WriteAsync(context, AgentApiResponse.Json(200, response, ProtocolJsonContext.Default.SiteServerRegisterResponse));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "Site server '{Name}' ({Kind}, {Id}) registered at {Address}")]
        public static partial void Registered(ILogger logger, string name, string kind, string id, string address);

        [LoggerMessage(EventId = 701, Level = LogLevel.Warning, Message = "Refused a site-server registration from {RemoteAddress}: the token is not valid")]
        public static partial void BadToken(ILogger logger, string? remoteAddress);
    }
}
