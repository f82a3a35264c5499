namespace Tcm.Simulator.Scenarios;

/// <summary>
/// A condition on the fleet, as written after <c>after:</c> and in <c>expect:</c> (grammar in <see cref="ConditionParser"/>).
/// <see cref="Text"/> is the original text, for reports.
/// </summary>
internal abstract record Condition
{
    public required string Text { get; init; }
}

/// <summary>Which of an agent's two connections a state metric looks at.</summary>
internal enum ChannelScope
{
    /// <summary>The core agent's Notification Server connection (no prefix, or <c>ns.</c>).</summary>
    Ns,
    /// <summary>The Client Task Agent's Task Server connection (<c>ts.</c>).</summary>
    Ts,
    /// <summary>Both connections must be in the state (<c>both.</c>): "with both channels through the gateway" is <c>both.cem</c>.</summary>
    Both,
}

/// <summary>Agent states a condition counts. Mode and transport are the agent's own Network Status.</summary>
internal enum StateMetric
{
    /// <summary>Reaches its server, directly or through the gateway (mode is not offline).</summary>
    Connected,
    /// <summary>Mode Direct.</summary>
    Direct,
    /// <summary>Mode CEM (through the gateway).</summary>
    Cem,
    /// <summary>Mode offline (cannot reach its server), or not started.</summary>
    Offline,
    /// <summary>Transport Persistent: the WebSocket channel is open.</summary>
    Persistent,
    /// <summary>Connected and transport HTTP (polling).</summary>
    Http,
    /// <summary>The agent process runs (started and not stopped).</summary>
    Running,
    /// <summary>The connection went through the profile's proxy (Network Status "via proxy host:port").</summary>
    Proxied,
    /// <summary>The Network Status reports the proxy's last failure (unreachable, credentials refused), whether or not the agent then went directly.</summary>
    ProxyFailing,

    // The last attempt's outcome (attempt-<outcome>), one per AttemptOutcome in its order, from 100 on (StateMetrics.ForAttempt).

    /// <summary><c>attempt-connected</c>: the last attempt opened the channel.</summary>
    AttemptConnected = 100,
    /// <summary><c>attempt-connection-refused</c>: nothing listens on the port dialled.</summary>
    AttemptConnectionRefused,
    /// <summary><c>attempt-timeout</c>.</summary>
    AttemptTimeout,
    /// <summary><c>attempt-unreachable</c>: no route from where the agent is.</summary>
    AttemptUnreachable,
    /// <summary><c>attempt-name-not-resolved</c>.</summary>
    AttemptNameNotResolved,
    /// <summary><c>attempt-tls-failure</c>: the server's certificate was rejected.</summary>
    AttemptTlsFailure,
    /// <summary><c>attempt-not-tcm</c>: an HTTP answer from something that is not a TCM server.</summary>
    AttemptNotTcm,
    /// <summary><c>attempt-backend-not-configured</c>: the gateway does not relay to the server asked for.</summary>
    AttemptBackendNotConfigured,
    /// <summary><c>attempt-backend-unavailable</c>: the gateway could not reach the server.</summary>
    AttemptBackendUnavailable,
    /// <summary><c>attempt-refused</c>: a TCM server refused with a code.</summary>
    AttemptRefused,
    /// <summary><c>attempt-failed</c>: anything else.</summary>
    AttemptFailed,
}

/// <summary>The state metrics of the last attempt's outcome, named like the outcome (<c>attempt-connection-refused</c>).</summary>
internal static class StateMetrics
{
    /// <summary>The metric that counts agents whose last attempt ended in <paramref name="outcome"/>.</summary>
    public static StateMetric ForAttempt(Tcm.Protocol.Admin.AttemptOutcome outcome) => StateMetric.AttemptConnected + (int)outcome;

    /// <summary>The outcome <paramref name="metric"/> counts, or null when it is not an attempt metric.</summary>
    public static Tcm.Protocol.Admin.AttemptOutcome? AttemptOf(StateMetric metric) =>
        metric >= StateMetric.AttemptConnected ? (Tcm.Protocol.Admin.AttemptOutcome)(metric - StateMetric.AttemptConnected) : null;

    /// <summary>The condition words of the attempt metrics, e.g. <c>attempt-tls-failure</c>.</summary>
    public static IEnumerable<string> AttemptWords =>
        Enum.GetValues<Tcm.Protocol.Admin.AttemptOutcome>().Select(o => "attempt-" + Tcm.Agent.Status.NetworkStatusText.Kebab(o));
}

/// <summary>Comparison operators.</summary>
internal enum Comparison
{
    GreaterOrEqual,
    LessOrEqual,
    Greater,
    Less,
    Equal,
    NotEqual,
}

/// <summary>Helpers for <see cref="Comparison"/>.</summary>
internal static class ComparisonExtensions
{
    /// <summary>Whether <c>observed op expected</c> holds (equality with a 1e-9 tolerance).</summary>
    public static bool Holds(this Comparison op, double observed, double expected) => op switch
    {
        Comparison.GreaterOrEqual => observed >= expected - 1e-9,
        Comparison.LessOrEqual => observed <= expected + 1e-9,
        Comparison.Greater => observed > expected,
        Comparison.Less => observed < expected,
        Comparison.Equal => Math.Abs(observed - expected) <= 1e-9,
        _ => Math.Abs(observed - expected) > 1e-9,
    };

    public static string Symbol(this Comparison op) => op switch
    {
        Comparison.GreaterOrEqual => ">=",
        Comparison.LessOrEqual => "<=",
        Comparison.Greater => ">",
        Comparison.Less => "<",
        Comparison.Equal => "==",
        _ => "!=",
    };
}

/// <summary>A number compared against: a share of a population (<c>95%</c>) or an absolute count (<c>950</c>).</summary>
internal readonly record struct Quantity(double Value, bool IsShare)
{
    /// <summary>The observed figure in the unit of this quantity: a share 0..1 of <paramref name="population"/>, or the count.</summary>
    public double Observe(int matching, int population) => IsShare ? (population == 0 ? 1.0 : (double)matching / population) : matching;

    public override string ToString() => IsShare ? $"{Value * 100:0.##}%" : Value.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The agents a condition counts among (<c>of ...</c>); default all agents in the run.</summary>
internal sealed record Population
{
    public static Population All { get; } = new();

    /// <summary>A group name, or null.</summary>
    public string? Group { get; init; }
    /// <summary>Agents at this location now, or null.</summary>
    public AgentLocation? Location { get; init; }
    /// <summary>Agents in this VPN state now, or null.</summary>
    public VpnState? Vpn { get; init; }
    /// <summary>Agents whose Notification Server connection goes to this lab node now (<c>ns-2</c>), or null.</summary>
    public string? Node { get; init; }

    public override string ToString() => Group is not null ? $"group {Group}"
        : Node is not null ? $"node {Node}"
        : Location is { } l ? l.ToString().ToLowerInvariant()
        : Vpn is { } v ? $"vpn-{v.ToString().ToLowerInvariant()}"
        : "all";
}

/// <summary>
/// <c>[ns.|ts.|both.]&lt;state&gt; &lt;op&gt; &lt;N% | N&gt; [of &lt;population&gt;]</c>, e.g. <c>both.cem &gt;= 99% of home-vpn</c>.
/// </summary>
internal sealed record StateCondition(ChannelScope Channel, StateMetric Metric, Comparison Op, Quantity Value, Population Of) : Condition;

/// <summary>Progress of a pushed action's targets.</summary>
internal enum ActionMetric
{
    /// <summary>The push reached the agent (acknowledged).</summary>
    Delivered,
    /// <summary>A result is stored (succeeded, failed or timed out).</summary>
    Completed,
    /// <summary>A succeeded result is stored.</summary>
    Succeeded,
    /// <summary>A failed or timed-out result is stored.</summary>
    Failed,
    /// <summary>The brake of a push in waves kept the target back.</summary>
    NotSent,
}

/// <summary>
/// <c>task-&lt;delivered|completed|succeeded|failed|not-sent&gt; &lt;event-id&gt; &lt;op&gt; &lt;N% | N&gt;</c>: a share or count of the targets of
/// the push made by that event (<c>push-task</c>, <c>inventory-now</c> or <c>push-policy</c>).
/// </summary>
internal sealed record ActionCondition(ActionMetric Metric, string EventId, Comparison Op, Quantity Value) : Condition;

// ------------------------------------------------------------------ expectations

/// <summary>A named expectation (<c>expect:</c>), checked during and after the run; the report shows the observed figure.</summary>
internal abstract record Expectation
{
    public required string Name { get; init; }
    /// <summary>The expression as written.</summary>
    public required string Text { get; init; }
    public SourcePosition Position { get; init; }
}

/// <summary>When a state expectation is checked.</summary>
internal abstract record ExpectationWindow;

/// <summary>At the end of the run (the default).</summary>
internal sealed record AtEndWindow : ExpectationWindow
{
    public static AtEndWindow Instance { get; } = new();
}

/// <summary><c>within 10s after vpn-flip</c>: holds at some sample no later than that after the event happened.</summary>
internal sealed record WithinWindow(TimeSpan Within, string AfterEventId) : ExpectationWindow;

/// <summary>
/// <c>throughout</c>, <c>throughout after ready</c>, <c>throughout until outage</c>: holds at every sample from the event on (from the
/// start without one) until the other event begins (to the end without one).
/// </summary>
internal sealed record ThroughoutWindow(string? AfterEventId) : ExpectationWindow
{
    /// <summary>The event whose beginning ends the window (<c>until &lt;event-id&gt;</c>), or null: the end of the run.</summary>
    public string? UntilEventId { get; init; }
}

/// <summary>A state condition over a window, e.g. <c>both.cem &gt;= 99% of home-vpn within 10s after vpn-flip</c>.</summary>
internal sealed record StateExpectation(StateCondition Condition, ExpectationWindow Window) : Expectation;

/// <summary><c>task-completed hello &gt;= 99% within 5s</c>: counted from the push; without <c>within</c>, by the end of the run.</summary>
internal sealed record ActionExpectation(ActionCondition Condition, TimeSpan? Within) : Expectation;

/// <summary>Delivery guarantees checked at the end.</summary>
internal enum IntegrityCheck
{
    /// <summary><c>no-lost-results</c>: every delivered task or inventory request of every agent still running has exactly one stored result.</summary>
    NoLostResults,
    /// <summary><c>no-duplicate-results</c>: no result was stored twice (every ResultCount &lt;= 1) and no task ran twice.</summary>
    NoDuplicateResults,
}

internal sealed record IntegrityExpectation(IntegrityCheck Check) : Expectation;

/// <summary>Traffic figures the simulated network and the servers count.</summary>
internal enum TrafficMetric
{
    /// <summary>Bytes of package downloads that left over a VPN adapter.</summary>
    VpnPackageBytes,
    /// <summary>All bytes that left or arrived over a VPN adapter.</summary>
    VpnBytes,
    /// <summary>Bytes of package downloads.</summary>
    PackageBytes,
    /// <summary>All agent bytes (sent + received), downloads excluded.</summary>
    Bytes,
    /// <summary>Agent requests (HTTP requests + channel requests), downloads excluded.</summary>
    Requests,
    /// <summary><see cref="Requests"/> per agent-hour.</summary>
    RequestsPerAgentHour,
    /// <summary><see cref="Bytes"/> per agent-hour.</summary>
    BytesPerAgentHour,
    /// <summary>Connection attempts refused by the simulated network (unreachable).</summary>
    UnreachableConnects,
}

/// <summary>
/// <c>vpn-package-bytes == 0</c>, <c>requests-per-agent-hour &lt;= legacy / 20</c>: a traffic figure against a number
/// (with a size unit for bytes) or against the same figure of the legacy run (<c>legacy: compare</c>) times <see cref="LegacyFactor"/>.
/// </summary>
internal sealed record TrafficExpectation(TrafficMetric Metric, Comparison Op, double Value, double? LegacyFactor) : Expectation
{
    /// <summary>Counts only the traffic after this event happened (steady state), instead of the whole run.</summary>
    public string? AfterEventId { get; init; }

    /// <summary>Which part of the traffic counts (<c>to corporate</c>, <c>for download</c>, <c>of home</c>, <c>kind ts.ack</c>); default all.</summary>
    public TrafficFilter Filter { get; init; } = TrafficFilter.None;
}

/// <summary>
/// The part of a run's traffic a traffic expectation counts: bytes and connections by destination class (<c>to corporate|public</c>)
/// and purpose (<c>for management|task-server|download|probe</c>), requests by kind (<c>kind [ns.|ts.]&lt;kind&gt;</c>), either of
/// one group's agents (<c>of &lt;group&gt;</c>).
/// </summary>
internal sealed record TrafficFilter
{
    public static TrafficFilter None { get; } = new();

    /// <summary>Only traffic to endpoints of this class, or null.</summary>
    public EndpointClass? Destination { get; init; }
    /// <summary>Only traffic of this purpose, or null.</summary>
    public Tcm.Agent.Network.TrafficPurpose? Purpose { get; init; }
    /// <summary>Only the traffic of this group's agents, or null.</summary>
    public string? Group { get; init; }
    /// <summary>Only requests of this connection (<c>ns</c>, <c>ts</c>), or null for both.</summary>
    public string? Connection { get; init; }
    /// <summary>Only requests of this kind (<c>http</c> or a message kind such as <c>ack</c>), or null.</summary>
    public string? Kind { get; init; }

    /// <summary>Whether a request counted under <paramref name="key"/> (<c>&lt;connection&gt; &lt;kind&gt;</c>) is in the filter.</summary>
    public bool IncludesRequest(string key)
    {
        var space = key.IndexOf(' ', StringComparison.Ordinal);
        return (Connection is null || key.AsSpan(0, space).SequenceEqual(Connection))
            && (Kind is null || key.AsSpan(space + 1).SequenceEqual(Kind));
    }
}

/// <summary>Which latency of a push.</summary>
internal enum LatencyPhase
{
    /// <summary>From the admin's push to the agent's acknowledgement.</summary>
    Delivered,
    /// <summary>From the admin's push to the stored result.</summary>
    Completed,
    /// <summary>From the moment an event happened (a server started again) to each agent's reconnect: every connection persistent again.</summary>
    Reconnected,
}

/// <summary>
/// <c>p99 delivered hello &lt;= 1s</c>: a percentile of a push's latencies (all pushes when no event id is given);
/// <c>p90 reconnected back &lt;= 20s</c>: of the agents' reconnects after an event (the id is required).
/// </summary>
internal sealed record LatencyExpectation(double Percentile, LatencyPhase Phase, string? EventId, Comparison Op, TimeSpan Threshold) : Expectation;
