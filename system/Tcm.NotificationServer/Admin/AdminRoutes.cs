using System.Text.Json.Serialization.Metadata;
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
    /// 201 with its location.
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
            return Created($"{TcmPaths.Admin}/actions/{actionId}", created, ProtocolJsonContext.Default.ActionCreated);
        })
            .Accepts<TRequest>(Json).Produces<ActionCreated>(StatusCodes.Status201Created).Produces<ErrorBody>(StatusCodes.Status400BadRequest);
    }

    /// <summary>
    /// Maps <c>PUT</c> <paramref name="path"/>: reads a <typeparamref name="T"/>, has <paramref name="changeAsync"/> apply it and
    /// return what is now in force, sends every connected agent its new policy, and answers with it.
    /// </summary>
    public static RouteHandlerBuilder MapPolicyInput<T>(
        this RouteGroupBuilder admin, string path, JsonTypeInfo<T> json, Func<IServiceProvider, T, CancellationToken, Task<T>> changeAsync)
        where T : class
    {
        return admin.MapPut(path, async (HttpRequest request, PolicyDistributor distributor) =>
        {
            var (value, error) = await ReadAsync(request, json);
            if (error is not null)
            {
                return error;
            }

            var inForce = await changeAsync(request.HttpContext.RequestServices, value!, request.HttpContext.RequestAborted);
            await distributor.DistributeAsync(request.HttpContext.RequestAborted);
            return Ok(inForce, json);
        })
            .Accepts<T>(Json).Produces<T>().Produces<ErrorBody>(StatusCodes.Status400BadRequest);
    }
}
