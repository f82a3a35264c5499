using System.Globalization;

namespace Tcm.Simulator.Scenarios;

/// <summary>The <c>expect:</c> half of the grammar: windows of state expectations, latency percentiles, traffic figures.</summary>
internal sealed partial class ConditionParser
{
    private Expectation Expectation(string name, SourcePosition position)
    {
        var first = Peek() ?? throw Fail(0, "expected an expectation like 'cem >= 99% of home-vpn within 10s after vpn-flip'");
        var word = first.Text.ToLowerInvariant();
        var text = _text.Trim();

        if (word is "no-lost-results" or "no-duplicate-results")
        {
            Take();
            var check = word == "no-lost-results" ? IntegrityCheck.NoLostResults : IntegrityCheck.NoDuplicateResults;
            return new IntegrityExpectation(check) { Name = name, Text = text, Position = position };
        }

        if (word.Length > 1 && word[0] == 'p' && double.TryParse(word[1..], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var percentile))
        {
            return Latency(name, position, first, percentile);
        }

        if (s_traffic.Contains(word))
        {
            return Traffic(name, position);
        }

        var condition = Condition(forExpectation: true);
        if (condition is ActionCondition action)
        {
            TimeSpan? within = null;
            if (PeekIs("within"))
            {
                Take();
                within = Duration();
            }

            return new ActionExpectation(action, within) { Name = name, Text = text, Position = position };
        }

        var state = (StateCondition)condition;
        ExpectationWindow window = AtEndWindow.Instance;
        if (PeekIs("within"))
        {
            Take();
            var within = Duration();
            ExpectWord("after", "'after <event-id>' (a state is measured from an event: 'within 10s after vpn-flip')");
            var id = Expect("an event id");
            CheckEvent(id);
            window = new WithinWindow(within, id.Text);
        }
        else if (PeekIs("throughout"))
        {
            Take();
            var after = EventAfter("after");
            var until = EventAfter("until");
            if (after is not null && after == until)
            {
                Error(EndOffset(), $"'throughout after {after} until {after}' is no window; name the event that ends it");
            }

            window = new ThroughoutWindow(after) { UntilEventId = until };
        }
        else if (PeekIs("at"))
        {
            Take();
            ExpectWord("end", "'end' ('at end' checks the state when the run ends)");
        }

        return new StateExpectation(state, window) { Name = name, Text = text, Position = position };
    }

    /// <summary>Optional <c>&lt;word&gt; &lt;event-id&gt;</c> (<c>after ready</c>, <c>until outage</c>): the event id, or null.</summary>
    private string? EventAfter(string word)
    {
        if (!PeekIs(word))
        {
            return null;
        }

        Take();
        var id = Expect("an event id");
        CheckEvent(id);
        return id.Text;
    }

    private LatencyExpectation Latency(string name, SourcePosition position, Token first, double percentile)
    {
        Take();
        if (percentile is <= 0 or > 100)
        {
            Error(first.Offset, $"a percentile must be between p1 and p100 (got '{first.Text}')");
        }

        var phaseToken = Expect("'delivered', 'completed' or 'reconnected'");
        var phase = phaseToken.Text.ToLowerInvariant() switch
        {
            "delivered" => LatencyPhase.Delivered,
            "completed" => LatencyPhase.Completed,
            "reconnected" => LatencyPhase.Reconnected,
            _ => throw Fail(phaseToken.Offset, $"expected 'delivered', 'completed' or 'reconnected' after '{first.Text}' (got '{phaseToken.Text}')"),
        };

        string? eventId = null;
        if (Peek() is { } next && !IsOperator(next.Text))
        {
            Take();
            if (phase == LatencyPhase.Reconnected)
            {
                CheckEvent(next);
            }
            else
            {
                CheckPushEvent(next);
            }

            eventId = next.Text;
        }
        else if (phase == LatencyPhase.Reconnected)
        {
            throw Fail(phaseToken.Offset + phaseToken.Text.Length, $"'{first.Text} reconnected' needs the event reconnects count from, like '{first.Text} reconnected back <= 20s'");
        }

        var op = Operator();
        var threshold = Duration();
        return new LatencyExpectation(percentile / 100.0, phase, eventId, op, threshold) { Name = name, Text = _text.Trim(), Position = position };
    }

    private TrafficExpectation Traffic(string name, SourcePosition position)
    {
        var token = Take();
        var metric = token.Text.ToLowerInvariant() switch
        {
            "vpn-package-bytes" => TrafficMetric.VpnPackageBytes,
            "vpn-bytes" => TrafficMetric.VpnBytes,
            "package-bytes" => TrafficMetric.PackageBytes,
            "bytes" => TrafficMetric.Bytes,
            "requests" => TrafficMetric.Requests,
            "requests-per-agent-hour" => TrafficMetric.RequestsPerAgentHour,
            "bytes-per-agent-hour" => TrafficMetric.BytesPerAgentHour,
            _ => TrafficMetric.UnreachableConnects,
        };
        var filter = TrafficQualifiers(token, metric);
        var op = Operator();
        var valueToken = Expect("a number, a size like 10MB, or 'legacy'");
        if (valueToken.Text.Equals("legacy", StringComparison.OrdinalIgnoreCase))
        {
            if (!_names.LegacyCompare)
            {
                Error(valueToken.Offset, "'legacy' needs 'legacy: compare' under 'fleet' (the run is then repeated in pure HTTP polling mode)");
            }

            var factor = 1.0;
            if (PeekIs("/") || PeekIs("*"))
            {
                var sign = Take();
                var numberToken = Expect("a number");
                if (!double.TryParse(numberToken.Text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) || n <= 0)
                {
                    throw Fail(numberToken.Offset, $"expected a positive number after '{sign.Text}' (got '{numberToken.Text}')");
                }

                factor = sign.Text == "/" ? 1 / n : n;
            }

            return new TrafficExpectation(metric, op, 0, factor) { Name = name, Text = _text.Trim(), Position = position, AfterEventId = TrafficWindow(), Filter = filter };
        }

        double value;
        if (DurationText.TryParseSize(valueToken.Text, out var bytes))
        {
            var hasUnit = valueToken.Text.Any(char.IsLetter);
            if (hasUnit && metric is TrafficMetric.Requests or TrafficMetric.RequestsPerAgentHour or TrafficMetric.UnreachableConnects)
            {
                throw Fail(valueToken.Offset, $"'{token.Text}' is a count, not a size (got '{valueToken.Text}')");
            }

            value = hasUnit ? bytes : double.Parse(valueToken.Text, CultureInfo.InvariantCulture);
        }
        else
        {
            throw Fail(valueToken.Offset, $"expected a number, a size like 10MB, or 'legacy' (got '{valueToken.Text}')");
        }

        return new TrafficExpectation(metric, op, value, null) { Name = name, Text = _text.Trim(), Position = position, AfterEventId = TrafficWindow(), Filter = filter };
    }

    /// <summary>Optional <c>after &lt;event-id&gt;</c>: traffic counted from that event on (steady state, without start-up).</summary>
    private string? TrafficWindow() => EventAfter("after");

    private static readonly Dictionary<string, EndpointClass> s_destinations = new() { ["corporate"] = EndpointClass.Corporate, ["public"] = EndpointClass.Public };

    private static readonly Dictionary<string, Tcm.Agent.Network.TrafficPurpose> s_purposes = new()
    {
        ["management"] = Tcm.Agent.Network.TrafficPurpose.Management,
        ["task-server"] = Tcm.Agent.Network.TrafficPurpose.TaskServer,
        ["download"] = Tcm.Agent.Network.TrafficPurpose.Download,
        ["probe"] = Tcm.Agent.Network.TrafficPurpose.Probe,
    };

    /// <summary>The request kinds <c>kind</c> takes: an HTTP request, or a message the agent sends on a channel.</summary>
    internal static readonly string[] RequestKinds = ["http", "hello", "ack", "task.status", "task.result", "inventory.result", "http.request", "http.response"];

    /// <summary>
    /// <c>to corporate|public</c>, <c>for &lt;purpose&gt;</c> and <c>of &lt;group&gt;</c> for bytes and connects; <c>kind [ns.|ts.]&lt;kind&gt;</c>
    /// and <c>of &lt;group&gt;</c> for requests; in any order, each once.
    /// </summary>
    private TrafficFilter TrafficQualifiers(Token metricToken, TrafficMetric metric)
    {
        var requests = metric is TrafficMetric.Requests or TrafficMetric.RequestsPerAgentHour;
        var purposeFixed = metric is TrafficMetric.VpnPackageBytes or TrafficMetric.PackageBytes;
        var filter = TrafficFilter.None;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (Peek() is { } word && word.Text.ToLowerInvariant() is "to" or "for" or "of" or "kind")
        {
            Take();
            var key = word.Text.ToLowerInvariant();
            if (!seen.Add(key))
            {
                throw Fail(word.Offset, $"'{key}' is given twice");
            }

            if (requests && key is "to" or "for")
            {
                throw Fail(word.Offset, $"'{metricToken.Text}' counts requests by 'kind' and group ('of'), not by destination or purpose; '{key}' goes with bytes");
            }

            if (!requests && key == "kind")
            {
                throw Fail(word.Offset, $"'kind' counts requests; '{metricToken.Text}' is counted by destination ('to'), purpose ('for') and group ('of')");
            }

            if (purposeFixed && key == "for")
            {
                throw Fail(word.Offset, $"'{metricToken.Text}' counts downloads only; use 'bytes for <purpose>' for another purpose");
            }

            filter = key switch
            {
                "to" => filter with { Destination = Choice(s_destinations, "'corporate' (Notification Server, Task Servers, package servers) or 'public' (gateway, HTTPS codebases)") },
                "for" => filter with { Purpose = Choice(s_purposes, "a purpose: management, task-server, download or probe") },
                "of" => filter with { Group = TrafficGroup() },
                _ => RequestKind(filter),
            };
        }

        return filter;
    }

    private T Choice<T>(Dictionary<string, T> choices, string what)
    {
        var token = Expect(what);
        return choices.TryGetValue(token.Text.ToLowerInvariant(), out var value)
            ? value
            : throw Fail(token.Offset, $"expected {what} (got '{token.Text}')" + (Suggestions.Closest(token.Text, choices.Keys) is { } closest ? $"; did you mean '{closest}'?" : ""));
    }

    private string TrafficGroup()
    {
        var token = Expect("a group name");
        if (token.Text.Equals("group", StringComparison.OrdinalIgnoreCase))
        {
            token = Expect("a group name");
        }

        return FindGroup(token.Text) ?? throw Fail(token.Offset, $"unknown group '{token.Text}'{Suggestions.Hint(token.Text, _names.Groups)}");
    }

    private TrafficFilter RequestKind(TrafficFilter filter)
    {
        var token = Expect("a request kind like http, ack, task.result or ts.http");
        var text = token.Text.ToLowerInvariant();
        string? connection = null;
        if (text.StartsWith("ns.", StringComparison.Ordinal) || text.StartsWith("ts.", StringComparison.Ordinal))
        {
            connection = text[..2];
            text = text[3..];
        }

        return RequestKinds.Contains(text)
            ? filter with { Connection = connection, Kind = text }
            : throw Fail(token.Offset, $"unknown request kind '{token.Text}'" + (Suggestions.Closest(text, RequestKinds) is { } closest ? $"; did you mean '{closest}'?" : "")
                + $" (kinds: {string.Join(", ", RequestKinds)}, each optionally after 'ns.' or 'ts.')");
    }
}
