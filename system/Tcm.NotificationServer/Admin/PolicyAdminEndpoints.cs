using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tcm.NotificationServer.Channel;
using Tcm.NotificationServer.Delivery;
using Tcm.NotificationServer.Policy;
using Tcm.Protocol;
using Tcm.Protocol.Admin;
using static Tcm.NotificationServer.Admin.AdminResults;

namespace Tcm.NotificationServer.Admin;

/// <summary>The admin API for what makes an agent's policy: communication profiles and targeted agent settings.</summary>
internal static class PolicyAdminEndpoints
{
    public static void MapProfiles(this RouteGroupBuilder admin)
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

    public static void MapTargetedSettings(this RouteGroupBuilder admin)
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
}
