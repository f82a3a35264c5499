using System.Buffers;
using Microsoft.Extensions.Options;
using Tcm.Hosting.Channels;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Diagnostics;

namespace Tcm.NotificationServer.AgentEndpoints;

/// <summary>Maps the agent HTTP endpoints onto <see cref="AgentApi"/>.</summary>
internal static class AgentHttpEndpoints
{
    /// <summary>The agent endpoints' services: the handlers and the authenticator.</summary>
    public static IServiceCollection AddAgentEndpoints(this IServiceCollection services) => services
        .AddSingleton<AgentApi>()
        .AddSingleton<AgentAuthenticator>();

    public static void MapAgentEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(TcmPaths.Register, RegisterAsync).ExcludeFromDescription();
        endpoints.MapGet(TcmPaths.Policy, HandleAsync).ExcludeFromDescription();
        endpoints.MapPost(TcmPaths.Events, HandleAsync).ExcludeFromDescription();
        endpoints.MapPost(TcmPaths.Inventory, HandleAsync).ExcludeFromDescription();
        endpoints.MapAgentTaskEndpoints(HandleAsync);
    }

    private static async Task RegisterAsync(HttpContext context)
    {
        var body = await ReadBodyAsync(context).ConfigureAwait(false);
        if (body is null)
        {
            return;
        }

        var response = await context.RequestServices.GetRequiredService<AgentApi>().RegisterAsync(body.Value, context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, response).ConfigureAwait(false);
    }

    private static async Task HandleAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var authentication = services.GetRequiredService<AgentAuthenticator>().Authenticate(context);
        if (authentication.Agent is not { } agent)
        {
            await WriteAsync(context, authentication.Refusal!).ConfigureAwait(false);
            return;
        }

        services.GetRequiredService<NsMetrics>().Channels.HttpRequest(authentication.ViaGateway is not null);

        var body = await ReadBodyAsync(context).ConfigureAwait(false);
        if (body is null)
        {
            return;
        }

        var request = context.Request;
        var headers = request.Headers;
        var response = await services.GetRequiredService<AgentApi>().HandleAsync(
            agent,
            request.Method,
            request.Path.Value + request.QueryString.Value,
            name => headers.TryGetValue(name, out var value) ? value.ToString() : null,
            body.Value,
            context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, response).ConfigureAwait(false);
    }

    /// <summary>Reads the request body up to the maximum message size; answers 413 itself and returns null when larger.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpContext context)
    {
        var max = context.RequestServices.GetRequiredService<IOptions<NotificationServerOptions>>().Value.MaxMessageBytes;
        if (context.Request.ContentLength is > 0 and var length && length > max)
        {
            await WriteAsync(context, AgentApiResponse.Error(StatusCodes.Status413PayloadTooLarge, CloseReasons.TooLarge, $"body: {length} bytes exceed the maximum of {max}")).ConfigureAwait(false);
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>();
        var stream = context.Request.Body;
        while (true)
        {
            var memory = buffer.GetMemory(4096);
            var read = await stream.ReadAsync(memory, context.RequestAborted).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > max)
            {
                await WriteAsync(context, AgentApiResponse.Error(StatusCodes.Status413PayloadTooLarge, CloseReasons.TooLarge, $"body: more than the maximum of {max} bytes")).ConfigureAwait(false);
                return null;
            }
        }

        return buffer.WrittenMemory;
    }

    /// <summary>Writes an <see cref="AgentApiResponse"/> as an HTTP response.</summary>
    public static async Task WriteAsync(HttpContext context, AgentApiResponse response)
    {
        context.Response.StatusCode = response.Status;
        if (response.Headers is { } headers)
        {
            foreach (var (name, value) in headers)
            {
                context.Response.Headers[name] = value;
            }
        }

        if (response.Body is { } body)
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }
}
