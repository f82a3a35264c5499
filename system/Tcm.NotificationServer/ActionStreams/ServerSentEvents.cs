using Microsoft.AspNetCore.Http.Features;

namespace Tcm.NotificationServer.ActionStreams;

/// <summary>What every server-sent event stream of the NS (the action streams, the console's fleet feed) does before its first event.</summary>
internal static class ServerSentEvents
{
    /// <summary>The content type of a stream.</summary>
    public const string ContentType = "text/event-stream";

    /// <summary>Answers with an event stream that no cache keeps and no proxy or server buffers, so each event leaves when it is flushed.</summary>
    public static void Start(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-cache, no-store";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }
}
