using System.Text.Json.Serialization.Metadata;
using Tcm.NotificationServer.Audit;
using Tcm.NotificationServer.Channel;
using Tcm.NotificationServer.Delivery;
using Tcm.NotificationServer.Policy;
using Tcm.Protocol.Admin;
using static Tcm.NotificationServer.Admin.AdminResults;

namespace Tcm.NotificationServer.Admin;

/// <summary>
/// The admin API for what makes an agent's policy: communication profiles and targeted agent settings. Both are the same
/// collection of policies by id (list, get, create, put, delete; every change goes to connected agents at once), described by one
/// <see cref="PolicyCollection{T}"/> each.
/// </summary>
internal static class PolicyAdminEndpoints
{
    private static readonly PolicyCollection<CommunicationProfile> Profiles = new(
        "profiles", "Profile", "Profiles", AuditKinds.Profile, PolicyLists.Profiles, ProtocolJsonContext.Default.IReadOnlyListCommunicationProfile,
        WithId: static (profile, id) => profile with { Id = id },
        Validate: AdminValidation.Validate,
        Missing: static id => $"there is no communication profile '{id}'",
        Exists: static id => $"id: a communication profile '{id}' exists already; use PUT to change it",
        Summaries: new("Communication profiles, in the order they are matched.", "One communication profile.",
            "Creates a communication profile (id generated when empty).",
            "Creates or replaces a communication profile; connected agents get their new policy at once.", "Deletes a communication profile."),
        Check: ProfileChecker.Check,
        Shown: static profile => profile.Proxy is { } proxy ? profile with { Proxy = proxy.Redacted() } : profile,
        Stored: static (stored, profile) => profile.Proxy is { } proxy ? profile with { Proxy = proxy.KeepPasswordOf(stored?.Proxy) } : profile);

    private static readonly PolicyCollection<TargetedAgentSettings> TargetedSettings = new(
        "agent-settings", "AgentSettings", "AgentSettings", AuditKinds.AgentSettings, PolicyLists.TargetedSettings, ProtocolJsonContext.Default.IReadOnlyListTargetedAgentSettings,
        WithId: static (settings, id) => settings with { Id = id },
        Validate: AdminValidation.Validate,
        Missing: static id => $"there are no targeted agent settings '{id}'",
        Exists: static id => $"id: targeted agent settings '{id}' exist already; use PUT to change them",
        Summaries: new("Targeted agent settings, in the order they are matched.", "One targeted agent settings policy.",
            "Creates a targeted agent settings policy (id generated when empty).",
            "Creates or replaces targeted agent settings; connected agents get their new policy at once.", "Deletes targeted agent settings."));

    public static void MapProfiles(this RouteGroupBuilder admin)
    {
        admin.MapPolicyCollection(Profiles);
        admin.MapPost("/profiles/{id}/package", async (string id, HttpContext context, PolicyService policy, NotificationServerInfo info) =>
        {
            if (!policy.Configuration.Profiles.Any(p => p.Id == id))
            {
                return NotFound(Profiles.Missing(id));
            }

            var package = await info.CreateInstallPackageAsync(id, context.RequestAborted);
            // why: never the package itself: it carries a registration token.
            context.Audit().After = $"{{\"profileId\":{System.Text.Json.JsonSerializer.Serialize(id, ProtocolJsonContext.Default.String)}}}";
            return Ok(package, ProtocolJsonContext.Default.InstallPackage);
        })
            .WithAdminAccess(AdminRole.Administrator, AuditKinds.InstallPackage)
            .WithName("CreateInstallPackage").WithSummary("Builds an agent install package (server URL, CA, a new registration token) from a profile.")
            .Produces<InstallPackage>().Produces<ErrorBody>(StatusCodes.Status404NotFound);

        admin.MapGet("/profiles/{id}/checks", (string id, PolicyService policy, IServiceProvider services) =>
            Profiles.All(policy).FirstOrDefault(p => p.Id == id) is { } profile
                ? Ok(new ProfileChecks(id, ProfileChecker.Check(profile, services)), ProtocolJsonContext.Default.ProfileChecks)
                : NotFound(Profiles.Missing(id)))
            .WithName("CheckProfile")
            .WithSummary("What in a profile does not match the registered gateways and this server's own address (advice: the profile is used as it is).")
            .Produces<ProfileChecks>().Produces<ErrorBody>(StatusCodes.Status404NotFound);
    }

    public static void MapTargetedSettings(this RouteGroupBuilder admin) => admin.MapPolicyCollection(TargetedSettings);

    private static void MapPolicyCollection<T>(this RouteGroupBuilder admin, PolicyCollection<T> c)
        where T : class
    {
        var path = "/" + c.Path;
        admin.MapGet(path, (PolicyService policy) => Ok(c.ShownAll(policy), c.ListJson))
            .WithName("List" + c.Plural).WithSummary(c.Summaries.List).Produces<IReadOnlyList<T>>();

        admin.MapGet(path + "/{id}", (string id, PolicyService policy) =>
            c.All(policy).FirstOrDefault(p => c.Id(p) == id) is { } item ? Ok(c.Show(item), c.Json) : NotFound(c.Missing(id)))
            .WithName("Get" + c.Name).WithSummary(c.Summaries.Get)
            .Produces<T>().Produces<ErrorBody>(StatusCodes.Status404NotFound);

        admin.MapPost(path, async (HttpRequest request, PolicyService policy, PolicyDistributor distributor) =>
        {
            var (item, error) = await ReadAsync(request, c.Json);
            if (error is not null)
            {
                return error;
            }

            item = string.IsNullOrEmpty(c.Id(item!)) ? c.WithId(item!, DeliveryService.NewActionId()) : item!;
            item = c.Store(null, item);
            var id = c.Id(item);
            if ((AdminValidation.IdProblem(id) ?? c.Validate(item)) is { } problem)
            {
                return BadRequest(problem);
            }

            if (c.All(policy).Any(p => c.Id(p) == id))
            {
                return Error(StatusCodes.Status409Conflict, "conflict", c.Exists(id));
            }

            await policy.UpsertAsync(c.List, item, request.HttpContext.RequestAborted);
            await distributor.DistributeAsync(request.HttpContext.RequestAborted);
            AddProblems(c, item, request.HttpContext);
            request.HttpContext.AuditChange(id, null, c.Show(item), c.Json);
            return Created($"{TcmPaths.Admin}{path}/{id}", c.Show(item), c.Json);
        })
            .WithName("Create" + c.Name).WithSummary(c.Summaries.Create).WithAdminAccess(AdminRole.Administrator, c.AuditKind)
            .Accepts<T>(Json).Produces<T>(StatusCodes.Status201Created)
            .Produces<ErrorBody>(StatusCodes.Status400BadRequest).Produces<ErrorBody>(StatusCodes.Status409Conflict);

        admin.MapPut(path + "/{id}", async (string id, HttpRequest request, PolicyService policy, PolicyDistributor distributor) =>
        {
            var (item, error) = await ReadAsync(request, c.Json);
            if (error is not null)
            {
                return error;
            }

            if (!string.IsNullOrEmpty(c.Id(item!)) && c.Id(item!) != id)
            {
                return BadRequest($"id: '{c.Id(item!)}' in the body does not match '{id}' in the path");
            }

            var stored = c.All(policy).FirstOrDefault(p => c.Id(p) == id);
            item = c.Store(stored, c.WithId(item!, id));
            if ((AdminValidation.IdProblem(id) ?? c.Validate(item)) is { } problem)
            {
                return BadRequest(problem);
            }

            await policy.UpsertAsync(c.List, item, request.HttpContext.RequestAborted);
            await distributor.DistributeAsync(request.HttpContext.RequestAborted);
            AddProblems(c, item, request.HttpContext);
            request.HttpContext.AuditChange(id, stored is null ? null : c.Show(stored), c.Show(item), c.Json);
            return Ok(c.Show(item), c.Json);
        })
            .WithName("Put" + c.Name).WithSummary(c.Summaries.Put).WithAdminAccess(AdminRole.Administrator, c.AuditKind)
            .Accepts<T>(Json).Produces<T>().Produces<ErrorBody>(StatusCodes.Status400BadRequest);

        admin.MapDelete(path + "/{id}", async (string id, HttpContext context, PolicyService policy, PolicyDistributor distributor) =>
        {
            if (c.All(policy).FirstOrDefault(p => c.Id(p) == id) is not { } stored)
            {
                return NotFound(c.Missing(id));
            }

            await policy.DeleteAsync(c.List, id, context.RequestAborted);
            await distributor.DistributeAsync(context.RequestAborted);
            context.AuditChange(id, c.Show(stored), null, c.Json);
            return Results.NoContent();
        })
            .WithName("Delete" + c.Name).WithSummary(c.Summaries.Delete).WithAdminAccess(AdminRole.Administrator, c.AuditKind)
            .Produces(StatusCodes.Status204NoContent).Produces<ErrorBody>(StatusCodes.Status404NotFound);
    }

    /// <summary>
    /// Each problem <paramref name="c"/>'s check finds in what was just saved, as an <c>X-Tcm-Problem</c> header of the answer
    /// (<c>field: detail</c>) and a warning in the server's log: saved, but said out loud.
    /// </summary>
    private static void AddProblems<T>(PolicyCollection<T> c, T item, HttpContext context)
        where T : class
    {
        if (c.Check is null)
        {
            return;
        }

        foreach (var problem in c.Check(item, context.RequestServices))
        {
            ProfileChecker.Log.ProfileProblem(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ProfileChecker)), c.Id(item), problem.Field, problem.Detail);
            context.Response.Headers.Append(ProfileChecker.ProblemHeader, ProfileChecker.HeaderValue(problem));
        }
    }

    /// <summary>One collection of policies by id: its route, its operation names and summaries, its messages, and how to read and change it.</summary>
    private sealed record PolicyCollection<T>(
        string Path,
        string Name,
        string Plural,
        string AuditKind,
        PolicyList<T> List,
        JsonTypeInfo<IReadOnlyList<T>> ListJson,
        Func<T, string, T> WithId,
        Func<T, string?> Validate,
        Func<string, string> Missing,
        Func<string, string> Exists,
        OperationSummaries Summaries,
        Func<T, IServiceProvider, IReadOnlyList<ProfileProblem>>? Check = null,
        Func<T, T>? Shown = null,
        Func<T?, T, T>? Stored = null)
    {
        public JsonTypeInfo<T> Json => List.Json;

        /// <summary>A policy as an answer shows it (a profile's proxy password left out).</summary>
        public T Show(T item) => Shown is null ? item : Shown(item);

        public IReadOnlyList<T> ShownAll(PolicyService policy) => Shown is null ? All(policy) : [.. All(policy).Select(Shown)];

        /// <summary>A policy as a save stores it, given what was stored under its id (a proxy password left out is kept).</summary>
        public T Store(T? stored, T item) => Stored is null ? item : Stored(stored, item);

        public IReadOnlyList<T> All(PolicyService policy) => List.Get(policy.Configuration);

        public string Id(T item) => List.Key(item).Id;
    }

    /// <summary>The OpenAPI summaries of a collection's five operations.</summary>
    private sealed record OperationSummaries(string List, string Get, string Create, string Put, string Delete);
}
