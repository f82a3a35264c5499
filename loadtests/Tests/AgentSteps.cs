namespace Tcm.LoadTests.Tests;

/// <summary>
/// What the tests that hold one agent per copy share: the agent's connect as a measured step, and the iteration of a copy
/// that connects once and then holds its channel.
/// </summary>
internal static class AgentSteps
{
    /// <summary>Step <paramref name="step"/>: connects this copy's agent; the channel, or null when it failed (the response says why).</summary>
    public static async Task<(Response Response, IAgentChannel? Channel)> ConnectAsync(ScenarioContext ctx, TestContext context, string step = "connect")
    {
        IAgentChannel? channel = null;
        var response = await Step.Run(step, ctx, async () =>
        {
            channel = await context.Target.ConnectAsync(context.AgentOffset + ctx.CopyNumber, NullPushObserver.Instance, ctx.CancellationToken).ConfigureAwait(false);
            return Response.Ok();
        }).ConfigureAwait(false);
        return (response, channel);
    }

    /// <summary>
    /// A copy's iteration: connect when it holds nothing (after a failure it waits <paramref name="retry"/> and the next
    /// iteration tries again), otherwise hold until the channel drops, which fails the iteration. <paramref name="connected"/>
    /// hears the count of connected agents after each connect.
    /// </summary>
    public static async Task<Response> HoldOrConnectAsync(ScenarioContext ctx, TestContext context, AgentTracker tracker, TimeSpan retry, Action<ScenarioContext, int>? connected = null)
    {
        if (ctx.CopyState is IAgentChannel held)
        {
            await held.Closed.WaitAsync(ctx.CancellationToken).ConfigureAwait(false);
            ctx.CopyState = null;
            tracker.OnDisconnected();
            await held.DisposeAsync().ConfigureAwait(false);
            return Response.Fail("channel dropped");
        }

        var (response, channel) = await ConnectAsync(ctx, context).ConfigureAwait(false);
        if (channel is null)
        {
            await Task.Delay(retry, ctx.TimeProvider, ctx.CancellationToken).ConfigureAwait(false);
            return response;
        }

        ctx.CopyState = channel;
        // why: counted whether or not the caller listens (a null-conditional call would skip evaluating its argument).
        var count = tracker.OnConnected();
        connected?.Invoke(ctx, count);
        return response;
    }
}
