using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Channel;
using Tcm.NotificationServer.Delivery;
using Tcm.NotificationServer.Diagnostics;
using Tcm.NotificationServer.Policy;
using Tcm.NotificationServer.Store;
using Tcm.Protocol;
using Tcm.Protocol.Admin;
using static Tcm.NotificationServer.Admin.AdminResults;

namespace Tcm.NotificationServer.Admin;

/// <summary>The admin API under <c>/tcm/admin</c>; every endpoint requires the admin key.</summary>
internal static class AdminEndpoints
{
    private const string Json = "application/json";
    private static readonly TimeSpan LiveStatusTimeout = TimeSpan.FromSeconds(5);

    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup(TcmPaths.Admin).AddEndpointFilter<AdminKeyFilter>().WithTags("Admin");
        MapSettings(admin);
        MapProfiles(admin);
        MapTargetedSettings(admin);
        MapAgents(admin);
        MapActions(admin);
        admin.MapGet("/metrics", (NsMetrics metrics) => Ok(metrics.Snapshot(), ProtocolJsonContext.Default.IReadOnlyDictionaryStringInt64))
            .WithName("GetMetrics").WithSummary("Snapshot of the server's counters.").Produces<IReadOnlyDictionary<string, long>>();
        return admin;
    }

    private static void MapSettings(RouteGroupBuilder admin)
    {
        admin.MapGet("/settings", (PolicyService policy) => Ok(policy.Configuration.Settings, ProtocolJsonContext.Default.ServerSettings))
            .WithName("GetSettings").WithSummary("The server settings, among them 'TCM communication'.").Produces<ServerSettings>();

        admin.MapPut("/settings", async (HttpRequest request, PolicyService policy, PolicyDistributor distributor) =>
        {
            var (settings, error) = await ReadAsync(request, ProtocolJsonContext.Default.ServerSettings);
            if (error is not null)
            {
                return error;
            }

            await policy.UpdateSettingsAsync(settings!);
            await distributor.DistributeAsync(request.HttpContext.RequestAborted);
            return Ok(policy.Configuration.Settings, ProtocolJsonContext.Default.ServerSettings);
        })
            .WithName("PutSettings").WithSummary("Changes the server settings; connected agents get their new policy at once.")
            .Accepts<ServerSettings>(Json).Produces<ServerSettings>().Produces<ErrorBody>(StatusCodes.Status400BadRequest);
    }

    private static void MapProfiles(RouteGroupBuilder admin)
    {
        admin.MapGet("/profiles", (PolicyService policy) => Ok(policy.Configuration.Profiles, ProtocolJsonContext.Default.IReadOnlyListCommunicationProfile))
            .WithName("ListProfiles").WithSummary("Communication profiles, in the order they are matched.").Produces<IReadOnlyList<CommunicationProfile>>();

        admin.MapGet("/profiles/{id}", (string id, PolicyService policy) =>
            policy.Configuration.Profiles.FirstOrDefault(p => p.Id == id) is { } profile
                ? Ok(profile, ProtocolJsonContext.Default.CommunicationProfile)
                : NotFound($"there is no communication profile '{id}'"))
            .WithName("GetProfile").WithSummary("One communication profile.")
            .Produces<CommunicationProfile>().Produces<ErrorBody>(StatusCodes.Status404NotFound);

        admin.MapPost("/profiles", async (HttpRequest request, PolicyService policy, PolicyDistributor distributor) =>
        {
            var (profile, error) = await ReadAsync(request, ProtocolJsonContext.Default.CommunicationProfile);
            if (error is not null)
            {
                return error;
            }

            profile = string.IsNullOrEmpty(profile!.Id) ? profile with { Id = DeliveryService.NewActionId() } : profile;
            if ((AdminValidation.IdProblem(profile.Id) ?? AdminValidation.Validate(profile)) is { } problem)
            {
                return BadRequest(problem);
            }

            if (policy.Configuration.Profiles.Any(p => p.Id == profile.Id))
            {
                return Error(StatusCodes.Status409Conflict, "conflict", $"id: a communication profile '{profile.Id}' exists already; use PUT to change it");
            }

            await policy.UpsertProfileAsync(profile);
            await distributor.DistributeAsync(request.HttpContext.RequestAborted);
            return Created($"{TcmPaths.Admin}/profiles/{profile.Id}", profile, ProtocolJsonContext.Default.CommunicationProfile);
        })
            .WithName("CreateProfile").WithSummary("Creates a communication profile (id generated when empty).")
            .Accepts<CommunicationProfile>(Json).Produces<CommunicationProfile>(StatusCodes.Status201Created)
            .Produces<ErrorBody>(StatusCodes.Status400BadRequest).Produces<ErrorBody>(StatusCodes.Status409Conflict);

        admin.MapPut("/profiles/{id}", async (string id, HttpRequest request, PolicyService policy, PolicyDistributor distributor) =>
        {
            var (profile, error) = await ReadAsync(request, ProtocolJsonContext.Default.CommunicationProfile);
            if (error is not null)
            {
                return error;
            }

            if (!string.IsNullOrEmpty(profile!.Id) && profile.Id != id)
            {
                return BadRequest($"id: '{profile.Id}' in the body does not match '{id}' in the path");
            }

            profile = profile with { Id = id };
            if ((AdminValidation.IdProblem(id) ?? AdminValidation.Validate(profile)) is { } problem)
            {
                return BadRequest(problem);
            }

            await policy.UpsertProfileAsync(profile);
            await distributor.DistributeAsync(request.HttpContext.RequestAborted);
            return Ok(profile, ProtocolJsonContext.Default.CommunicationProfile);
        })
            .WithName("PutProfile").WithSummary("Creates or replaces a communication profile; connected agents get their new policy at once.")
            .Accepts<CommunicationProfile>(Json).Produces<CommunicationProfile>().Produces<ErrorBody>(StatusCodes.Status400BadRequest);

        admin.MapDelete("/profiles/{id}", async (string id, HttpContext context, PolicyService policy, PolicyDistributor distributor) =>
        {
            if (!policy.Configuration.Profiles.Any(p => p.Id == id))
            {
                return NotFound($"there is no communication profile '{id}'");
            }

            await policy.DeleteProfileAsync(id);
            await distributor.DistributeAsync(context.RequestAborted);
            return Results.NoContent();
        })
            .WithName("DeleteProfile").WithSummary("Deletes a communication profile.")
            .Produces(StatusCodes.Status204NoContent).Produces<ErrorBody>(StatusCodes.Status404NotFound);

        admin.MapPost("/profiles/{id}/package", async (string id, HttpContext context, PolicyService policy, NotificationServerInfo info) =>
        {
            if (!policy.Configuration.Profiles.Any(p => p.Id == id))
            {
                return NotFound($"there is no communication profile '{id}'");
            }

            var package = await info.CreateInstallPackageAsync(id, context.RequestAborted);
            return Ok(package, ProtocolJsonContext.Default.InstallPackage);
        })
            .WithName("CreateInstallPackage").WithSummary("Builds an agent install package (server URL, CA, a new registration token) from a profile.")
            .Produces<InstallPackage>().Produces<ErrorBody>(StatusCodes.Status404NotFound);
    }

    private static void MapTargetedSettings(RouteGroupBuilder admin)
    {
        admin.MapGet("/agent-settings", (PolicyService policy) => Ok(policy.Configuration.TargetedSettings, ProtocolJsonContext.Default.IReadOnlyListTargetedAgentSettings))
            .WithName("ListAgentSettings").WithSummary("Targeted agent settings, in the order they are matched.").Produces<IReadOnlyList<TargetedAgentSettings>>();

        admin.MapGet("/agent-settings/{id}", (string id, PolicyService policy) =>
            policy.Configuration.TargetedSettings.FirstOrDefault(p => p.Id == id) is { } settings
                ? Ok(settings, ProtocolJsonContext.Default.TargetedAgentSettings)
                : NotFound($"there are no targeted agent settings '{id}'"))
            .WithName("GetAgentSettings").WithSummary("One targeted agent settings policy.")
            .Produces<TargetedAgentSettings>().Produces<ErrorBody>(StatusCodes.Status404NotFound);

        admin.MapPost("/agent-settings", async (HttpRequest request, PolicyService policy, PolicyDistributor distributor) =>
        {
            var (settings, error) = await ReadAsync(request, ProtocolJsonContext.Default.TargetedAgentSettings);
            if (error is not null)
            {
                return error;
            }

            settings = string.IsNullOrEmpty(settings!.Id) ? settings with { Id = DeliveryService.NewActionId() } : settings;
            if ((AdminValidation.IdProblem(settings.Id) ?? AdminValidation.Validate(settings)) is { } problem)
            {
                return BadRequest(problem);
            }

            if (policy.Configuration.TargetedSettings.Any(p => p.Id == settings.Id))
            {
                return Error(StatusCodes.Status409Conflict, "conflict", $"id: targeted agent settings '{settings.Id}' exist already; use PUT to change them");
            }

            await policy.UpsertTargetedSettingsAsync(settings);
            await distributor.DistributeAsync(request.HttpContext.RequestAborted);
            return Created($"{TcmPaths.Admin}/agent-settings/{settings.Id}", settings, ProtocolJsonContext.Default.TargetedAgentSettings);
        })
            .WithName("CreateAgentSettings").WithSummary("Creates a targeted agent settings policy (id generated when empty).")
            .Accepts<TargetedAgentSettings>(Json).Produces<TargetedAgentSettings>(StatusCodes.Status201Created)
            .Produces<ErrorBody>(StatusCodes.Status400BadRequest).Produces<ErrorBody>(StatusCodes.Status409Conflict);

        admin.MapPut("/agent-settings/{id}", async (string id, HttpRequest request, PolicyService policy, PolicyDistributor distributor) =>
        {
            var (settings, error) = await ReadAsync(request, ProtocolJsonContext.Default.TargetedAgentSettings);
            if (error is not null)
            {
                return error;
            }

            if (!string.IsNullOrEmpty(settings!.Id) && settings.Id != id)
            {
                return BadRequest($"id: '{settings.Id}' in the body does not match '{id}' in the path");
            }

            settings = settings with { Id = id };
            if ((AdminValidation.IdProblem(id) ?? AdminValidation.Validate(settings)) is { } problem)
            {
                return BadRequest(problem);
            }

            await policy.UpsertTargetedSettingsAsync(settings);
            await distributor.DistributeAsync(request.HttpContext.RequestAborted);
            return Ok(settings, ProtocolJsonContext.Default.TargetedAgentSettings);
        })
            .WithName("PutAgentSettings").WithSummary("Creates or replaces targeted agent settings; connected agents get their new policy at once.")
            .Accepts<TargetedAgentSettings>(Json).Produces<TargetedAgentSettings>().Produces<ErrorBody>(StatusCodes.Status400BadRequest);

        admin.MapDelete("/agent-settings/{id}", async (string id, HttpContext context, PolicyService policy, PolicyDistributor distributor) =>
        {
            if (!policy.Configuration.TargetedSettings.Any(p => p.Id == id))
            {
                return NotFound($"there are no targeted agent settings '{id}'");
            }

            await policy.DeleteTargetedSettingsAsync(id);
            await distributor.DistributeAsync(context.RequestAborted);
            return Results.NoContent();
        })
            .WithName("DeleteAgentSettings").WithSummary("Deletes targeted agent settings.")
            .Produces(StatusCodes.Status204NoContent).Produces<ErrorBody>(StatusCodes.Status404NotFound);
    }

    private static void MapAgents(RouteGroupBuilder admin)
    {
        admin.MapGet("/agents", (HttpRequest request, AgentViews views) =>
        {
            var query = request.Query;
            if (!TryInt(query["skip"], 0, 0, int.MaxValue, out var skip))
            {
                return BadRequest("skip: must be an integer of 0 or more");
            }

            if (!TryInt(query["take"], 100, 1, 1000, out var take))
            {
                return BadRequest("take: must be an integer between 1 and 1000");
            }

            bool? connected = null;
            if (query["connected"] is { Count: > 0 } connectedText)
            {
                if (!bool.TryParse(connectedText.ToString(), out var value))
                {
                    return BadRequest("connected: must be true or false");
                }

                connected = value;
            }

            return Ok(views.Page(skip, take, query["search"].ToString(), connected), ProtocolJsonContext.Default.AgentPage);
        })
            .WithName("ListAgents").WithSummary("A page of agents (skip, take up to 1000, search in id/name/domain, connected).")
            .Produces<AgentPage>().Produces<ErrorBody>(StatusCodes.Status400BadRequest);

        admin.MapGet("/agents/{id}", (string id, AgentDirectory directory, AgentViews views) =>
            directory.TryGet(id, out var agent) ? Ok(views.ToInfo(agent), ProtocolJsonContext.Default.AgentInfo) : NotFound($"there is no agent '{id}'"))
            .WithName("GetAgent").WithSummary("One agent.").Produces<AgentInfo>().Produces<ErrorBody>(StatusCodes.Status404NotFound);

        admin.MapGet("/agents/{id}/network-status", async (string id, HttpContext context, AgentDirectory directory, ConnectionRegistry registry) =>
        {
            if (!directory.TryGet(id, out var agent))
            {
                return NotFound($"there is no agent '{id}'");
            }

            if (registry.TryGetActive(id, out var session))
            {
                var response = await session.RequestAsync("GET", "/tcm/agent/status", LiveStatusTimeout, context.RequestAborted);
                if (response is { Status: 200, Body: { } body } && TryReadStatus(body) is { } live)
                {
                    agent.NetworkStatus = live;
                    return Ok(live, ProtocolJsonContext.Default.NetworkStatus);
                }
            }

            return agent.NetworkStatus is { } status
                ? Ok(status, ProtocolJsonContext.Default.NetworkStatus)
                : NotFound($"agent '{id}' has not reported a Network Status yet and has no channel to ask");
        })
            .WithName("GetAgentNetworkStatus").WithSummary("The agent's Network Status: asked live over the channel, else the last one it posted.")
            .Produces<NetworkStatus>().Produces<ErrorBody>(StatusCodes.Status404NotFound);

        admin.MapPost("/agents/{id}/terminate", (string id, HttpRequest request, AgentDirectory directory, ConnectionRegistry registry) =>
        {
            if (!directory.TryGet(id, out _))
            {
                return NotFound($"there is no agent '{id}'");
            }

            if (!TryInt(request.Query["reconnectAfterSeconds"], 60, 0, 7 * 24 * 3600, out var reconnectAfter))
            {
                return BadRequest("reconnectAfterSeconds: must be an integer between 0 and 604800");
            }

            if (!registry.TryGetActive(id, out var session))
            {
                return Error(StatusCodes.Status409Conflict, "not-connected", $"agent '{id}' has no persistent connection to terminate");
            }

            session.Send(new TerminateMessage { Reason = CloseReasons.Terminated, ReconnectAfterSeconds = reconnectAfter });
            session.BeginClose(WebSocketCloseStatus.NormalClosure, CloseReasons.Terminated, "an administrator terminated the persistent connection");
            return Results.NoContent();
        })
            .WithName("TerminateAgentConnection").WithSummary("Sends 'terminate' to a connected agent and closes its channel.")
            .Produces(StatusCodes.Status204NoContent).Produces<ErrorBody>(StatusCodes.Status404NotFound).Produces<ErrorBody>(StatusCodes.Status409Conflict);

        admin.MapGet("/fleet", (AgentViews views) => Ok(views.Fleet(), ProtocolJsonContext.Default.FleetSummary))
            .WithName("GetFleet").WithSummary("Counts of the fleet by connection state.").Produces<FleetSummary>();
    }

    private static void MapActions(RouteGroupBuilder admin)
    {
        admin.MapPost("/actions/task", async (HttpRequest request, AgentDirectory directory, DeliveryService delivery, TimeProvider time) =>
        {
            var (body, error) = await ReadAsync(request, ProtocolJsonContext.Default.PushTaskRequest);
            if (error is not null)
            {
                return error;
            }

            var task = body!;
            if (AdminValidation.Validate(task) is { } problem)
            {
                return BadRequest(problem);
            }

            var actionId = DeliveryService.NewActionId();
            var now = time.GetUtcNow();
            var created = await CreateActionAsync(directory, delivery, actionId, "task", task.Targets, TcmStore.Serialize(task, ProtocolJsonContext.Default.PushTaskRequest),
                (_, seq) => new TaskPushMessage
                {
                    Seq = seq,
                    TaskId = actionId,
                    Command = task.Command,
                    Name = task.Name,
                    Parameters = task.Parameters,
                    TimeoutSeconds = task.TimeoutSeconds,
                    CreatedAt = now,
                });
            return Created($"{TcmPaths.Admin}/actions/{actionId}", created, ProtocolJsonContext.Default.ActionCreated);
        })
            .WithName("PushTask").WithSummary("Pushes a task to the targeted agents now (channel, else handed out at their next poll).")
            .Accepts<PushTaskRequest>(Json).Produces<ActionCreated>(StatusCodes.Status201Created).Produces<ErrorBody>(StatusCodes.Status400BadRequest);

        admin.MapPost("/actions/policy", async (HttpRequest request, AgentDirectory directory, DeliveryService delivery, PolicyService policy) =>
        {
            var (push, error) = await ReadAsync(request, ProtocolJsonContext.Default.PushPolicyRequest);
            if (error is not null)
            {
                return error;
            }

            if (AdminValidation.Validate(push!.Targets) is { } problem)
            {
                return BadRequest(problem);
            }

            var actionId = DeliveryService.NewActionId();
            var created = await CreateActionAsync(directory, delivery, actionId, "policy", push.Targets, TcmStore.Serialize(push, ProtocolJsonContext.Default.PushPolicyRequest),
                (agent, seq) => new PolicyPushMessage { Seq = seq, Policy = policy.GetPolicy(agent) });
            return Created($"{TcmPaths.Admin}/actions/{actionId}", created, ProtocolJsonContext.Default.ActionCreated);
        })
            .WithName("PushPolicy").WithSummary("Pushes the current policy to the targeted agents now.")
            .Accepts<PushPolicyRequest>(Json).Produces<ActionCreated>(StatusCodes.Status201Created).Produces<ErrorBody>(StatusCodes.Status400BadRequest);

        admin.MapPost("/actions/inventory", async (HttpRequest request, AgentDirectory directory, DeliveryService delivery, TimeProvider time) =>
        {
            var (inventory, error) = await ReadAsync(request, ProtocolJsonContext.Default.InventoryNowRequest);
            if (error is not null)
            {
                return error;
            }

            if (AdminValidation.Validate(inventory!.Targets) is { } problem)
            {
                return BadRequest(problem);
            }

            var actionId = DeliveryService.NewActionId();
            var now = time.GetUtcNow();
            var created = await CreateActionAsync(directory, delivery, actionId, "inventory", inventory.Targets, TcmStore.Serialize(inventory, ProtocolJsonContext.Default.InventoryNowRequest),
                (_, seq) => new InventoryRequestMessage { Seq = seq, RequestId = actionId, Classes = inventory.Classes, CreatedAt = now });
            return Created($"{TcmPaths.Admin}/actions/{actionId}", created, ProtocolJsonContext.Default.ActionCreated);
        })
            .WithName("InventoryNow").WithSummary("Asks the targeted agents for their inventory now (on-demand inventory).")
            .Accepts<InventoryNowRequest>(Json).Produces<ActionCreated>(StatusCodes.Status201Created).Produces<ErrorBody>(StatusCodes.Status400BadRequest);

        admin.MapGet("/actions/{id}", (string id, TcmStore store, AgentDirectory directory) =>
            ReadAction(store, directory, id) is { } status ? Ok(status, ProtocolJsonContext.Default.ActionStatus) : NotFound($"there is no action '{id}'"))
            .WithName("GetAction").WithSummary("An action with each target's progress: pending, delivered, running, succeeded, failed, timed-out.")
            .Produces<ActionStatus>().Produces<ErrorBody>(StatusCodes.Status404NotFound);
    }

    private static async Task<ActionCreated> CreateActionAsync(
        AgentDirectory directory,
        DeliveryService delivery,
        string actionId,
        string kind,
        Targets targets,
        string requestJson,
        Func<AgentRecord, long, PushMessage> build)
    {
        var agents = directory.All.Where(a => TargetMatcher.Matches(targets, a)).ToList();
        var sent = await delivery.PushAsync(agents, build, new NewAction(actionId, kind, requestJson));
        return new ActionCreated(actionId, kind, agents.Count, sent);
    }

    private static ActionStatus? ReadAction(TcmStore store, AgentDirectory directory, string id)
    {
        var action = store.Query("SELECT kind, created_at FROM actions WHERE id=@p0", r => (Kind: r.GetString(0), CreatedAt: r.GetInt64(1)), id);
        if (action.Count == 0)
        {
            return null;
        }

        static DateTimeOffset? Time(Microsoft.Data.Sqlite.SqliteDataReader r, int i) => r.IsDBNull(i) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(i));
        var targets = store.Query(
            "SELECT agent_id, status, delivered_via, delivered_at, completed_at, output, exit_code, result_count FROM action_targets WHERE action_id=@p0 ORDER BY agent_id",
            r => new ActionTargetStatus
            {
                AgentId = r.GetString(0),
                ComputerName = directory.TryGet(r.GetString(0), out var agent) ? agent.ComputerName : "",
                State = DeliveryService.ParseState(r.GetString(1)),
                DeliveredVia = r.IsDBNull(2) ? null : r.GetString(2),
                DeliveredAt = Time(r, 3),
                CompletedAt = Time(r, 4),
                Output = r.IsDBNull(5) ? null : r.GetString(5),
                ExitCode = r.IsDBNull(6) ? null : r.GetInt32(6),
                ResultCount = r.GetInt32(7),
            },
            id);
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var state in Enum.GetValues<TaskState>())
        {
            counts[DeliveryService.StateText(state)] = 0;
        }

        foreach (var target in targets)
        {
            counts[DeliveryService.StateText(target.State)]++;
        }

        return new ActionStatus
        {
            ActionId = id,
            Kind = action[0].Kind,
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(action[0].CreatedAt),
            Counts = counts,
            Targets = targets,
        };
    }

    private static NetworkStatus? TryReadStatus(JsonElement body)
    {
        try
        {
            return body.Deserialize(ProtocolJsonContext.Default.NetworkStatus);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool TryInt(Microsoft.Extensions.Primitives.StringValues text, int fallback, int min, int max, out int value)
    {
        if (text.Count == 0 || string.IsNullOrEmpty(text.ToString()))
        {
            value = fallback;
            return true;
        }

        return int.TryParse(text.ToString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
    }
}
