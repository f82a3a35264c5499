using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Tcm.NotificationServer.Agents;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Admin;

/// <summary>Answers of the admin API, serialized with the source-generated contract metadata.</summary>
internal static class AdminResults
{
    /// <summary>The content type of every admin request and answer body.</summary>
    public const string Json = "application/json";

    public static IResult Ok<T>(T value, JsonTypeInfo<T> typeInfo) => Results.Json(value, typeInfo);

    public static IResult Created<T>(string location, T value, JsonTypeInfo<T> typeInfo) => new CreatedResult<T>(location, value, typeInfo);

    public static IResult Error(int status, string code, string detail) => new ErrorResult(status, code, detail);

    public static IResult BadRequest(string detail) => Error(StatusCodes.Status400BadRequest, "bad-request", detail);

    public static IResult NotFound(string what) => Error(StatusCodes.Status404NotFound, "not-found", what);

    /// <summary>
    /// Reads an integer query parameter: <paramref name="fallback"/> when absent, false when it is not an integer between
    /// <paramref name="min"/> and <paramref name="max"/>.
    /// </summary>
    public static bool TryInt(Microsoft.Extensions.Primitives.StringValues text, int fallback, int min, int max, out int value)
    {
        if (text.Count == 0 || string.IsNullOrEmpty(text.ToString()))
        {
            value = fallback;
            return true;
        }

        return int.TryParse(text.ToString(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out value)
            && value >= min && value <= max;
    }

    /// <summary>Reads a JSON body; the error names what is wrong (missing property, wrong type, where).</summary>
    public static async Task<(T? Value, IResult? Error)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        try
        {
            var value = await JsonSerializer.DeserializeAsync(request.Body, typeInfo, request.HttpContext.RequestAborted).ConfigureAwait(false);
            return value is null ? (null, BadRequest($"body: a {typeof(T).Name} JSON object is required")) : (value, null);
        }
        catch (JsonException ex)
        {
            return (null, BadRequest($"body: not a valid {typeof(T).Name}: {ex.Message}"));
        }
    }

    private sealed class ErrorResult(int status, string code, string detail) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => status;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers[AgentApiResponse.RefusalHeader] = code;
            return Results.Json(new ErrorBody { Code = code, Detail = detail }, ProtocolJsonContext.Default.ErrorBody, statusCode: status).ExecuteAsync(httpContext);
        }
    }

    private sealed class CreatedResult<T>(string location, T value, JsonTypeInfo<T> typeInfo) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => StatusCodes.Status201Created;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.Location = location;
            return Results.Json(value, typeInfo, statusCode: StatusCodes.Status201Created).ExecuteAsync(httpContext);
        }
    }
}
