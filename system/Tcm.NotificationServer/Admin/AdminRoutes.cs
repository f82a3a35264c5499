using System.Text.Json.Serialization.Metadata;
using Tcm.NotificationServer.Audit;
using Tcm.NotificationServer.Channel;
using Tcm.NotificationServer.Delivery;
using Tcm.Protocol.Admin;
using static Tcm.NotificationServer.Admin.AdminResults;

namespace Tcm.NotificationServer.Admin;

/// <summary>
/// The two shapes of admin endpoint that several features map: an action (a body becomes a new action for the targeted agents)
/// and a policy input (a body changes what policies are computed from, and every connected agent gets its new policy at once).
/// </summary>
internal static class AdminRoutes
{
    /// <summary>
    /// Maps <c>POST</c> <paramref name="path"/>: reads a <typeparamref name="TRequest"/>, refuses it with 400 when
    /// <paramref name="validate"/> names a problem, has <paramref name="createAsync"/> start the action under a new id, and answers
    /// 201 with its location. An operator may run it; the audit trail records the action's id and the request.
    /// </summary>
    public static RouteHandlerBuilder MapAction<TRequest>(
        this RouteGroupBuilder admin,
        string path,
        JsonTypeInfo<TRequest> json,
        Func<TRequest, string?> validate,
        Func<IServiceProvider, TRequest, string, CancellationToken, Task<ActionCreated>> createAsync)
        where TRequest : class
    {
        return admin.MapPost(path, async (HttpRequest request) =>
        {
            var (body, error) = await ReadAsync(request, json);
            if (error is not null)
            {
                return error;
            }

            if (validate(body!) is { } problem)
            {
                return BadRequest(problem);
            }

            var actionId = DeliveryService.NewActionId();
            var created = await createAsync(request.HttpContext.RequestServices, body!, actionId, request.HttpContext.RequestAborted);
            request.HttpContext.AuditChange(actionId, null, body, json);
            return Created($"{TcmPaths.Admin}/actions/{actionId}", created, ProtocolJsonContext.Default.ActionCreated);
        })
            .WithAdminAccess(Protocol.Admin.AdminRole.Operator, AuditKinds.Action)
            .Accepts<TRequest>(Json).Produces<ActionCreated>(StatusCodes.Status201Created).Produces<ErrorBody>(StatusCodes.Status400BadRequest);
    }

    /// <summary>
    /// Maps <c>PUT</c> <paramref name="path"/>: reads a <typeparamref name="T"/>, has <paramref name="changeAsync"/> apply it and
    /// return what is now in force, sends every connected agent its new policy, and answers with it. An administrator may call it;
    /// the audit trail records it as a change of settings, from what <paramref name="current"/> said before to what is in force.
    /// </summary>
    public static RouteHandlerBuilder MapPolicyInput<T>(
        this RouteGroupBuilder admin,
        string path,
        JsonTypeInfo<T> json,
        Func<IServiceProvider, T> current,
        Func<IServiceProvider, T, CancellationToken, Task<T>> changeAsync)
        where T : class
    {
        return admin.MapPut(path, async (HttpRequest request, PolicyDistributor distributor) =>
        {
            var (value, error) = await ReadAsync(request, json);
            if (error is not null)
            {
                return error;
            }

            var before = current(request.HttpContext.RequestServices);
            var inForce = await changeAsync(request.HttpContext.RequestServices, value!, request.HttpContext.RequestAborted);
            request.HttpContext.AuditChange(path.TrimStart('/'), before, inForce, json);
            await distributor.DistributeAsync(request.HttpContext.RequestAborted);
            return Ok(inForce, json);
        })
            .WithAdminAccess(Protocol.Admin.AdminRole.Administrator, AuditKinds.Settings)
            .Accepts<T>(Json).Produces<T>().Produces<ErrorBody>(StatusCodes.Status400BadRequest);
    }
}
