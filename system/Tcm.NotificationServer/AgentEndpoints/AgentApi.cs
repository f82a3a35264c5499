using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Certificates;
using Tcm.NotificationServer.Delivery;
using Tcm.NotificationServer.Policy;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.AgentEndpoints;

/// <summary>
/// The agent endpoints as plain handlers: (agent, method, path, headers, body) in, (status, headers, JSON body) out.
/// The HTTP endpoints and the channel's <c>http.request</c> dispatcher call the very same code.
/// </summary>
internal sealed partial class AgentApi(
    AgentDirectory directory,
    PolicyService policy,
    DeliveryService delivery,
    CertificateAuthority authority,
    TcmStore store,
    TimeProvider time,
    ILogger<AgentApi> logger)
{
    /// <summary>Handles an authenticated agent request.</summary>
    public async ValueTask<AgentApiResponse> HandleAsync(
        AgentRecord agent,
        string method,
        string pathAndQuery,
        Func<string, string?> header,
        ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken)
    {
        agent.Touch(time.GetUtcNow());
        var request = AgentRequestLine.Parse(method, pathAndQuery);
        var (path, isGet, isPost) = (request.Path, request.IsGet, request.IsPost);
        switch (path)
        {
            case TcmPaths.Policy when isGet:
                return GetPolicy(agent, header("If-None-Match"));
            case TcmPaths.Events when isPost:
                return PostEvents(agent, body);
            case TcmPaths.Inventory when isPost:
                return PostInventory(agent, body);
            case TcmPaths.Tasks when isGet:
                return GetTasks(agent, request);
            case TcmPaths.TaskStatus when isPost:
                return PostTaskStatus(agent, body);
            case TcmPaths.TaskResult when isPost:
                return await PostResultAsync(agent, body, cancellationToken).ConfigureAwait(false);
            case TcmPaths.Policy or TcmPaths.Events or TcmPaths.Inventory or TcmPaths.Tasks or TcmPaths.TaskStatus or TcmPaths.TaskResult:
                return AgentApiResponse.Error(405, "method-not-allowed", $"{method} is not allowed on {path}");
            default:
                return AgentApiResponse.Error(404, "not-found", $"no agent endpoint at '{path}'");
        }
    }

    /// <summary>POST /tcm/agent/register: checks the token, signs the CSR, stores the agent, returns its certificate and policy.</summary>
    public async Task<AgentApiResponse> RegisterAsync(ReadOnlyMemory<byte> body, CancellationToken ct = default)
    {
        if (!TryRead(body, ProtocolJsonContext.Default.RegisterRequest, out var request, out var error))
        {
            return error;
        }

        var package = directory.FindPackage(request.RegistrationToken);
        if (package is null)
        {
            Log.BadToken(logger, request.ComputerName);
            return AgentApiResponse.Error(401, "bad-registration-token", "the registration token is not valid or was revoked; install the agent with a current install package");
        }

        if (string.IsNullOrWhiteSpace(request.ComputerName) || request.ComputerName.Length > 255)
        {
            return AgentApiResponse.Error(400, "bad-request", "computerName: must be 1 to 255 characters");
        }

        var agentId = AgentIds.NewId();
        string certificatePem;
        try
        {
            certificatePem = authority.SignAgentCertificate(request.CertificateSigningRequestPem, agentId);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            return AgentApiResponse.Error(400, "bad-request", $"certificateSigningRequestPem: not a valid PKCS#10 request in PEM ({ex.Message})");
        }

        var now = time.GetUtcNow();
        var agent = new AgentRecord
        {
            Id = agentId,
            ComputerName = request.ComputerName.Trim(),
            Domain = request.Domain,
            OsName = request.OsName,
            Attributes = request.Attributes is { } attributes ? new Dictionary<string, string>(attributes, StringComparer.OrdinalIgnoreCase) : new Dictionary<string, string>(),
            RegisteredAt = now,
        };
        agent.Touch(now);
        await directory.AddAsync(agent, request.PreviousAgentId, package.Id, ct).ConfigureAwait(false);
        Log.Registered(logger, agentId, agent.ComputerName, package.Id);
        var response = new RegisterResponse
        {
            AgentId = agentId,
            ClientCertificatePem = certificatePem,
            CaCertificatePem = authority.CertificatePem,
            Policy = policy.GetPolicy(agent),
        };
        return AgentApiResponse.Json(200, response, ProtocolJsonContext.Default.RegisterResponse);
    }

    private AgentApiResponse GetPolicy(AgentRecord agent, string? ifNoneMatch)
    {
        var document = policy.GetPolicy(agent);
        var etag = $"\"{document.Etag}\"";
        var headers = new Dictionary<string, string> { ["ETag"] = etag };
        if (ifNoneMatch is not null && EtagMatches(ifNoneMatch, document.Etag))
        {
            return new AgentApiResponse(304, null, headers);
        }

        return AgentApiResponse.Json(200, document, ProtocolJsonContext.Default.PolicyDocument, headers);
    }

    /// <summary>Whether an <c>If-None-Match</c> value names <paramref name="etag"/> (quoted or not, weak or not, or <c>*</c>).</summary>
    internal static bool EtagMatches(string ifNoneMatch, string etag)
    {
        foreach (var part in ifNoneMatch.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = part.StartsWith("W/", StringComparison.Ordinal) ? part[2..] : part;
            if (candidate == "*" || candidate.Trim('"') == etag)
            {
                return true;
            }
        }

        return false;
    }

    private AgentApiResponse PostEvents(AgentRecord agent, ReadOnlyMemory<byte> body)
    {
        if (!TryRead(body, ProtocolJsonContext.Default.EventBatch, out var batch, out var error))
        {
            return error;
        }

        if (batch.NetworkStatus is { } status)
        {
            directory.ReportNetworkStatus(agent, status);
        }

        Log.Events(logger, agent.Id, batch.Events.Count);
        return AgentApiResponse.NoContent;
    }

    private AgentApiResponse PostInventory(AgentRecord agent, ReadOnlyMemory<byte> body)
    {
        if (!TryRead(body, ProtocolJsonContext.Default.BasicInventory, out var inventory, out var error))
        {
            return error;
        }

        var json = TcmStore.Serialize(inventory, ProtocolJsonContext.Default.BasicInventory);
        store.Writer.Post(ctx => ctx.Execute("UPDATE agents SET inventory=@p1 WHERE id=@p0", agent.Id, json), "inventory");
        return AgentApiResponse.NoContent;
    }

    private AgentApiResponse GetTasks(AgentRecord agent, AgentRequestLine request)
    {
        if (!request.TryGetAfter(out var after))
        {
            return AgentApiResponse.Error(400, "bad-request", AgentRequestLine.BadAfter);
        }

        var pending = delivery.HandOut(agent, after);
        return AgentApiResponse.Json(200, pending, ProtocolJsonContext.Default.PendingPushes);
    }

    private AgentApiResponse PostTaskStatus(AgentRecord agent, ReadOnlyMemory<byte> body)
    {
        var decoded = MessageCodec.Decode(body.Span, int.MaxValue);
        if (decoded.Message is not TaskStatusMessage status)
        {
            return AgentApiResponse.Error(400, "bad-request", decoded.Detail ?? "body: expected a 'task.status' message (kind included)");
        }

        delivery.RecordStatus(agent, status);
        return AgentApiResponse.NoContent;
    }

    private async Task<AgentApiResponse> PostResultAsync(AgentRecord agent, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var decoded = MessageCodec.Decode(body.Span, int.MaxValue);
        if (decoded.Message is not (TaskResultMessage or InventoryResultMessage))
        {
            return AgentApiResponse.Error(400, "bad-request", decoded.Detail ?? "body: expected a 'task.result' or 'inventory.result' message (kind included)");
        }

        try
        {
            var receipt = await delivery.StoreResultAsync(agent, decoded.Message, cancellationToken).ConfigureAwait(false);
            return AgentApiResponse.Json(200, receipt, ProtocolJsonContext.Default.ResultReceipt);
        }
        catch (ArgumentException ex)
        {
            return AgentApiResponse.Error(400, "bad-request", ex.Message);
        }
    }

    private static bool TryRead<T>(ReadOnlyMemory<byte> body, JsonTypeInfo<T> typeInfo, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? value, out AgentApiResponse error)
        where T : class
    {
        error = AgentApiResponse.NoContent;
        try
        {
            value = body.IsEmpty ? null : JsonSerializer.Deserialize(body.Span, typeInfo);
        }
        catch (JsonException ex)
        {
            value = null;
            error = AgentApiResponse.Error(400, "bad-request", $"body: not a valid {typeof(T).Name}: {ex.Message}");
            return false;
        }

        if (value is null)
        {
            error = AgentApiResponse.Error(400, "bad-request", $"body: a {typeof(T).Name} JSON object is required");
            return false;
        }

        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "Registered agent {AgentId} ({ComputerName}) from install package {PackageId}")]
        public static partial void Registered(ILogger logger, string agentId, string computerName, string packageId);

        [LoggerMessage(EventId = 501, Level = LogLevel.Warning, Message = "Refused a registration of '{ComputerName}': the registration token is not valid")]
        public static partial void BadToken(ILogger logger, string computerName);

        [LoggerMessage(EventId = 502, Level = LogLevel.Debug, Message = "Agent {AgentId} posted {Count} events")]
        public static partial void Events(ILogger logger, string agentId, int count);
    }
}
