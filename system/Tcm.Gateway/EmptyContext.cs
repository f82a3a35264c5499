using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Tcm.Gateway;

/// <summary>
/// Keeps the gateway's agent connections and relayed requests on an empty execution context: nothing ambient (log scopes, a
/// request <see cref="System.Diagnostics.Activity"/>) flows into the work an idle agent causes.
/// </summary>
/// <remarks>
/// why: with logging on, Kestrel opens a log scope around every connection and ASP.NET Core's hosting starts an
/// <see cref="System.Diagnostics.Activity"/> and a log scope for every request; both live in the execution context, which then
/// flows into every continuation of the connection and of each tunnel, for as long as they live. An idle gateway's work is
/// nearly all such continuations: Kestrel's heartbeat wakes every agent connection's HTTP/2 loop each second (4,000 a second at
/// 4,000 agents), and every ping wakes its tunnel's relay. Each of them then switches the thread to that context and back (and
/// <see cref="System.Diagnostics.Activity.Current"/> notifies its change), where the bare Kestrel of the load tests, with no
/// logging, runs them on the empty context (docs/benchmarks.md, issue 16, branch h24-gwidle). What is given up: the connection
/// id as a log scope on what is logged inside a connection (Kestrel's messages carry it in their text), and the hosting
/// category's per-request lines ("Request starting", "Request finished"), which at thousands of long-lived tunnels say nothing
/// the gateway's own log (refusals, relay ends) and its counters do not; the gateway exports no traces.
/// </remarks>
internal static class EmptyContext
{
    /// <summary>The logger category of ASP.NET Core's per-request logging, scope and activity.</summary>
    internal const string HostingDiagnostics = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>Adds connection middleware that runs the rest of the connection (TLS, HTTP, the relay) on an empty execution context.</summary>
    public static void Use(ListenOptions listen) => listen.Use(static next => connection => RunDetached(next, connection));

    /// <summary>
    /// Turns off the per-request hosting log (and so its scope and activity), unless the operator set a level for the category
    /// (<c>Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics</c>).
    /// </summary>
    public static void Use(ILoggingBuilder logging, IConfiguration configuration)
    {
        if (configuration[$"Logging:LogLevel:{HostingDiagnostics}"] is null)
        {
            logging.AddFilter(HostingDiagnostics, LogLevel.None);
        }
    }

    /// <summary>Runs <paramref name="next"/> for <paramref name="connection"/> on a thread-pool thread with no execution context; the caller's context is untouched.</summary>
    internal static Task RunDetached(ConnectionDelegate next, ConnectionContext connection)
    {
        if (ExecutionContext.IsFlowSuppressed())
        {
            return Task.Run(() => next(connection));
        }

        // why: a task started while the flow is suppressed captures no context, and neither does anything awaited inside it.
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(() => next(connection));
        }
    }
}
