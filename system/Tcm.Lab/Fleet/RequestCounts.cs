using Tcm.Agent;
using Tcm.Agent.Status;
using Tcm.Protocol;

namespace Tcm.Lab.Fleet;

/// <summary>
/// The requests an agent made, by kind: keys are <c>&lt;connection&gt; &lt;kind&gt;</c>, where the connection is <c>ns</c> (the core
/// agent's, to its Notification Server) or <c>ts</c> (the Client Task Agent's, to a Task Server) and the kind is <c>http</c> (an HTTP
/// request: registration, policy, polls, posts) or the wire kind of a message the agent sent on that connection's persistent channel
/// (<c>hello</c>, <c>ack</c>, <c>task.status</c>, <c>task.result</c>, <c>inventory.result</c>, <c>http.request</c>, <c>http.response</c>...).
/// Every one counts once, when it went out; downloads are not requests.
/// </summary>
public static class RequestCounts
{
    /// <summary>The connections' names in keys, in order.</summary>
    public static IReadOnlyList<string> Connections { get; } = ["ns", "ts"];

    /// <summary>The kind of an HTTP request in keys.</summary>
    public const string Http = "http";

    /// <summary>Adds what <paramref name="agent"/> has counted since it was created to <paramref name="totals"/>.</summary>
    public static void AddTo(IDictionary<string, long> totals, TcmAgent agent)
    {
        ArgumentNullException.ThrowIfNull(totals);
        ArgumentNullException.ThrowIfNull(agent);
        Add(totals, "ns", agent.Counters);
        Add(totals, "ts", agent.TaskServerCounters);
    }

    /// <summary>Adds every count of <paramref name="from"/> to <paramref name="totals"/>.</summary>
    public static void AddTo(IDictionary<string, long> totals, IReadOnlyDictionary<string, long> from)
    {
        ArgumentNullException.ThrowIfNull(totals);
        ArgumentNullException.ThrowIfNull(from);
        foreach (var (key, n) in from)
        {
            Increment(totals, key, n);
        }
    }

    /// <summary>Whether <paramref name="key"/>'s kind is an HTTP request.</summary>
    public static bool IsHttp(string key) => key.EndsWith(" " + Http, StringComparison.Ordinal);

    private static void Add(IDictionary<string, long> totals, string connection, AgentCounters counters)
    {
        Increment(totals, $"{connection} {Http}", counters.HttpRequests);
        foreach (var kind in MessageKinds.All)
        {
            Increment(totals, $"{connection} {kind}", counters.MessagesSent(kind));
        }
    }

    private static void Increment(IDictionary<string, long> totals, string key, long n)
    {
        if (n != 0)
        {
            totals[key] = totals.TryGetValue(key, out var before) ? before + n : n;
        }
    }
}
