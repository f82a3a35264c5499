namespace Tcm.LoadTests.Harness;

/// <summary>The outcome of a step or scenario iteration, as in NBomber: <c>Response.Ok(sizeBytes: n)</c> or <c>Response.Fail(message)</c>.</summary>
internal sealed class Response
{
    private static readonly Response s_ok = new(false, null, 0, null);

    private Response(bool isError, string? message, long sizeBytes, string? statusCode)
    {
        IsError = isError;
        Message = message;
        SizeBytes = sizeBytes;
        StatusCode = statusCode;
    }

    /// <summary>True for a failure.</summary>
    public bool IsError { get; }

    /// <summary>Why it failed (or a note on success).</summary>
    public string? Message { get; }

    /// <summary>Bytes transferred, counted in the statistics.</summary>
    public long SizeBytes { get; }

    /// <summary>An optional status code (HTTP status, close reason).</summary>
    public string? StatusCode { get; }

    /// <summary>A success.</summary>
    public static Response Ok(long sizeBytes = 0, string? statusCode = null, string? message = null) =>
        sizeBytes == 0 && statusCode is null && message is null ? s_ok : new Response(false, message, sizeBytes, statusCode);

    /// <summary>A failure.</summary>
    public static Response Fail(string message = "", long sizeBytes = 0, string? statusCode = null) =>
        new(true, message, sizeBytes, statusCode);
}
