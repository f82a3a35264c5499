using System.Globalization;
using Tcm.NotificationServer.AgentEndpoints;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.SiteServers;

namespace Tcm.NotificationServer.SiteServerApi;

/// <summary>What every site server's request to the NS starts with: who is calling, and for a long poll, how long it may wait.</summary>
internal static class SiteRequests
{
    /// <summary>The longest <c>?wait=</c> of a site server's long poll, in seconds.</summary>
    public const int MaxWaitSeconds = 60;

    /// <summary>The site server of <paramref name="kind"/> behind the request, or null after answering its refusal.</summary>
    public static async Task<SiteServerRecord?> AuthenticateAsync(HttpContext context, SiteServerKind kind)
    {
        var authentication = context.RequestServices.GetRequiredService<SiteServerAuthenticator>().Authenticate(context, kind);
        if (authentication.Server is null)
        {
            await AgentHttpEndpoints.WriteAsync(context, authentication.Refusal!);
        }

        return authentication.Server;
    }

    /// <summary>The long poll's <c>?wait=</c> in seconds (default 25, at most <see cref="MaxWaitSeconds"/>), or null after answering 400.</summary>
    public static async Task<int?> ReadWaitAsync(HttpContext context)
    {
        var wait = 25;
        if (context.Request.Query["wait"] is { Count: > 0 } text
            && (!int.TryParse(text.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out wait) || wait > MaxWaitSeconds))
        {
            await AgentHttpEndpoints.WriteAsync(context, AgentApiResponse.Error(400, "bad-request", $"wait: seconds, 0 to {MaxWaitSeconds}"));
            return null;
        }

        return wait;
    }
}
