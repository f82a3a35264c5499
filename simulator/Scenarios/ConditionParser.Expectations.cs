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
            string? after = null;
            if (PeekIs("after"))
            {
                Take();
                var id = Expect("an event id");
                CheckEvent(id);
                after = id.Text;
            }

            window = new ThroughoutWindow(after);
        }
        else if (PeekIs("at"))
        {
            Take();
            ExpectWord("end", "'end' ('at end' checks the state when the run ends)");
        }

        return new StateExpectation(state, window) { Name = name, Text = text, Position = position };
    }

    private LatencyExpectation Latency(string name, SourcePosition position, Token first, double percentile)
    {
        Take();
        if (percentile is <= 0 or > 100)
        {
            Error(first.Offset, $"a percentile must be between p1 and p100 (got '{first.Text}')");
        }

        var phaseToken = Expect("'delivered' or 'completed'");
        var phase = phaseToken.Text.ToLowerInvariant() switch
        {
            "delivered" => LatencyPhase.Delivered,
            "completed" => LatencyPhase.Completed,
            _ => throw Fail(phaseToken.Offset, $"expected 'delivered' or 'completed' after '{first.Text}' (got '{phaseToken.Text}')"),
        };

        string? eventId = null;
        if (Peek() is { } next && !IsOperator(next.Text))
        {
            Take();
            CheckPushEvent(next);
            eventId = next.Text;
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

            return new TrafficExpectation(metric, op, 0, factor) { Name = name, Text = _text.Trim(), Position = position, AfterEventId = TrafficWindow() };
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

        return new TrafficExpectation(metric, op, value, null) { Name = name, Text = _text.Trim(), Position = position, AfterEventId = TrafficWindow() };
    }

    /// <summary>Optional <c>after &lt;event-id&gt;</c>: traffic counted from that event on (steady state, without start-up).</summary>
    private string? TrafficWindow()
    {
        if (!PeekIs("after"))
        {
            return null;
        }

        Take();
        var id = Expect("an event id");
        CheckEvent(id);
        return id.Text;
    }
}
