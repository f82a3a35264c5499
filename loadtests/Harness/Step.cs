namespace Tcm.LoadTests.Harness;

/// <summary>Steps inside a scenario iteration, each with its own statistics: <c>await Step.Run("connect", ctx, async () => ...)</c>.</summary>
internal static class Step
{
    /// <summary>
    /// Runs and measures one step. An exception becomes a failed response with its message; cancellation because the
    /// scenario is stopping is not measured and propagates.
    /// </summary>
    public static async Task<Response> Run(string name, ScenarioContext context, Func<Task<Response>> run)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(run);
        var collector = context.Runtime.Step(name);
        var time = context.TimeProvider;
        var start = time.GetTimestamp();
        Response response;
        try
        {
            response = await run().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            response = Response.Fail(Describe(ex));
        }

        if (response.IsError)
        {
            collector.RecordFail(response.Message);
        }
        else
        {
            collector.RecordOk(time.GetElapsedTime(start), response.SizeBytes);
        }

        return response;
    }

    /// <summary>An exception and its inner causes in one line ("WebSocketException: Unable to connect ... &lt;- IOException: ...").</summary>
    public static string Describe(Exception exception)
    {
        var parts = new List<string>();
        for (var e = exception; e is not null && parts.Count < 4; e = e.InnerException)
        {
            parts.Add($"{e.GetType().Name}: {e.Message}");
        }

        return string.Join(" <- ", parts);
    }
}
