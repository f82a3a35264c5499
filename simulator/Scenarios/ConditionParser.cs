using System.Globalization;

namespace Tcm.Simulator.Scenarios;

/// <summary>What the condition parser needs to know about the rest of the scenario to check names.</summary>
internal interface IScenarioNames
{
    /// <summary>Group names (case-insensitive).</summary>
    IReadOnlyCollection<string> Groups { get; }

    /// <summary>Explicit event ids with their <c>do:</c> word.</summary>
    IReadOnlyDictionary<string, string> Events { get; }

    /// <summary>Whether <c>legacy: compare</c> is set, so <c>legacy</c> may appear in traffic expectations.</summary>
    bool LegacyCompare { get; }

    /// <summary>The lab's Notification Server nodes (<c>ns</c>, or <c>ns-1</c>, <c>ns-2</c>, ...), for <c>of node &lt;name&gt;</c>; none for an external system.</summary>
    IReadOnlyCollection<string> Nodes { get; }
}

/// <summary>A problem at <see cref="Offset"/> characters into the expression.</summary>
internal readonly record struct ExpressionError(int Offset, string Message);

/// <summary>
/// The small expression language of <c>after:</c> conditions and <c>expect:</c> entries. Grammar (tokens separated by spaces;
/// operators may touch their operands):
/// <code>
/// condition   := state | action
/// state       := [ns.|ts.|both.]&lt;connected|direct|cem|offline|persistent|http|running&gt; op amount [of population]
/// action      := task-&lt;delivered|completed|succeeded|failed|not-sent&gt; &lt;event-id&gt; op amount
/// amount      := N% | N
/// population  := all | group &lt;name&gt; | &lt;group-name&gt; | office | internet | vpn-up | vpn-down | vpn-none | node &lt;node-name&gt;
/// op          := &gt;= | &lt;= | &gt; | &lt; | == | !=
///
/// expectation := state [within &lt;duration&gt; after &lt;event-id&gt; | throughout [after &lt;event-id&gt;] [until &lt;event-id&gt;] | at end]
///              | action [within &lt;duration&gt;]
///              | no-lost-results | no-duplicate-results
///              | p&lt;NN&gt; &lt;delivered|completed&gt; [&lt;event-id&gt;] op &lt;duration&gt;
///              | p&lt;NN&gt; reconnected &lt;event-id&gt; op &lt;duration&gt;
///              | &lt;traffic&gt; {qualifier} op (&lt;number&gt; | &lt;size&gt; | legacy [/ N | * N]) [after &lt;event-id&gt;]
/// traffic     := vpn-package-bytes | vpn-bytes | package-bytes | bytes | requests
///              | requests-per-agent-hour | bytes-per-agent-hour | unreachable-connects
/// qualifier   := to &lt;corporate|public&gt; | for &lt;management|task-server|download|probe&gt; | of &lt;group&gt;   (bytes, connects)
///              | kind [ns.|ts.]&lt;http|hello|ack|task.status|task.result|inventory.result|http.request|http.response&gt; | of &lt;group&gt;   (requests)
/// </code>
/// </summary>
internal sealed partial class ConditionParser
{
    private static readonly string[] s_states = ["connected", "direct", "cem", "offline", "persistent", "http", "running", "proxied", "proxy-failing", .. StateMetrics.AttemptWords];
    private static readonly string[] s_actions = ["task-delivered", "task-completed", "task-succeeded", "task-failed", "task-not-sent"];
    private static readonly string[] s_traffic =
        ["vpn-package-bytes", "vpn-bytes", "package-bytes", "bytes", "requests", "requests-per-agent-hour", "bytes-per-agent-hour", "unreachable-connects"];
    private static readonly string[] s_flags = ["no-lost-results", "no-duplicate-results"];
    private static readonly string[] s_operators = [">=", "<=", ">", "<", "==", "!="];

    private readonly string _text;
    private readonly IScenarioNames _names;
    private readonly List<Token> _tokens;
    private readonly List<ExpressionError> _errors = [];
    private int _next;

    private ConditionParser(string text, IScenarioNames names)
    {
        _text = text;
        _names = names;
        _tokens = Tokenize(text);
    }

    /// <summary>Every word a condition or expectation may start with, for suggestions.</summary>
    public static IReadOnlyList<string> StartWords { get; } =
        [.. s_states, .. s_states.Select(s => "ts." + s), .. s_states.Select(s => "both." + s), .. s_actions, .. s_flags, .. s_traffic, "p50", "p90", "p95", "p99"];

    /// <summary>Parses a condition (<c>after:</c>).</summary>
    public static (Condition? Condition, IReadOnlyList<ExpressionError> Errors) ParseCondition(string text, IScenarioNames names)
    {
        var parser = new ConditionParser(text, names);
        Condition? result = null;
        try
        {
            result = parser.Condition(forExpectation: false);
            parser.ExpectEnd();
        }
        catch (ParseAbort)
        {
        }

        return (parser._errors.Count == 0 ? result : null, parser._errors);
    }

    /// <summary>Parses an expectation (<c>expect:</c>).</summary>
    public static (Expectation? Expectation, IReadOnlyList<ExpressionError> Errors) ParseExpectation(string name, string text, IScenarioNames names, SourcePosition position)
    {
        var parser = new ConditionParser(text, names);
        Expectation? result = null;
        try
        {
            result = parser.Expectation(name, position);
            parser.ExpectEnd();
        }
        catch (ParseAbort)
        {
        }

        return (parser._errors.Count == 0 ? result : null, parser._errors);
    }

    // ------------------------------------------------------------ grammar

    private Condition Condition(bool forExpectation)
    {
        var first = Peek();
        if (first is null)
        {
            throw Fail(0, "expected a condition like 'persistent >= 95%' or 'cem >= 99% of home-vpn'");
        }

        var word = first.Value.Text.ToLowerInvariant();
        if (s_actions.Contains(word))
        {
            return ActionCondition();
        }

        if (TrySplitState(word, out _, out _))
        {
            return StateCondition();
        }

        var candidates = forExpectation ? StartWords : [.. s_states, .. s_actions];
        throw Fail(first.Value.Offset, $"unknown measure '{first.Value.Text}'{Suggestions.Hint(first.Value.Text, candidates.ToArray())}"
            + (forExpectation ? "" : " (a condition counts agents, e.g. 'persistent >= 95%', or a push's targets, e.g. 'task-completed hello >= 99%')"));
    }

    private StateCondition StateCondition()
    {
        var token = Take();
        TrySplitState(token.Text.ToLowerInvariant(), out var scope, out var metric);
        var op = Operator();
        var amount = Amount();
        var population = Population.All;
        if (PeekIs("of"))
        {
            Take();
            population = PopulationRef();
        }

        return new StateCondition(scope, metric, op, amount, population) { Text = _text.Trim() };
    }

    private ActionCondition ActionCondition()
    {
        var token = Take();
        var metric = token.Text.ToLowerInvariant() switch
        {
            "task-delivered" => ActionMetric.Delivered,
            "task-completed" => ActionMetric.Completed,
            "task-succeeded" => ActionMetric.Succeeded,
            "task-not-sent" => ActionMetric.NotSent,
            _ => ActionMetric.Failed,
        };
        var id = Expect("the id of a push-task, inventory-now or push-policy event");
        CheckPushEvent(id);
        var op = Operator();
        var amount = Amount();
        return new ActionCondition(metric, id.Text, op, amount) { Text = _text.Trim() };
    }

    private Population PopulationRef()
    {
        var token = Expect("a group name, 'all', 'office', 'internet', 'vpn-up', 'vpn-down', 'vpn-none' or 'node <name>'");
        var word = token.Text;
        if (word.Equals("group", StringComparison.OrdinalIgnoreCase))
        {
            var groupToken = Expect("a group name");
            return GroupPopulation(groupToken);
        }

        if (word.Equals("node", StringComparison.OrdinalIgnoreCase))
        {
            var nodeToken = Expect($"a Notification Server node ({string.Join(", ", _names.Nodes)})");
            return _names.Nodes.FirstOrDefault(n => n.Equals(nodeToken.Text, StringComparison.OrdinalIgnoreCase)) is { } node
                ? new Population { Node = node }
                : throw Fail(nodeToken.Offset, $"unknown node '{nodeToken.Text}'{(_names.Nodes.Count == 0 ? " (an external system has no lab nodes)" : $"; the lab's nodes are {string.Join(", ", _names.Nodes)} (see 'nsNodes')")}{Suggestions.Hint(nodeToken.Text, _names.Nodes)}");
        }

        if (FindGroup(word) is { } group)
        {
            return new Population { Group = group };
        }

        switch (word.ToLowerInvariant())
        {
            case "all":
                return Population.All;
            case "office":
                return new Population { Location = AgentLocation.Office };
            case "internet":
                return new Population { Location = AgentLocation.Internet };
            case "vpn-up":
                return new Population { Vpn = VpnState.Up };
            case "vpn-down":
                return new Population { Vpn = VpnState.Down };
            case "vpn-none":
                return new Population { Vpn = VpnState.None };
        }

        string[] candidates = [.. _names.Groups, "all", "office", "internet", "vpn-up", "vpn-down", "vpn-none"];
        throw Fail(token.Offset, $"unknown group '{word}'{Suggestions.Hint(word, candidates)}");
    }

    private Population GroupPopulation(Token token)
    {
        if (FindGroup(token.Text) is { } group)
        {
            return new Population { Group = group };
        }

        throw Fail(token.Offset, $"unknown group '{token.Text}'{Suggestions.Hint(token.Text, _names.Groups)}");
    }

    private string? FindGroup(string name) => _names.Groups.FirstOrDefault(g => g.Equals(name, StringComparison.OrdinalIgnoreCase));

    private Comparison Operator()
    {
        var token = Expect("a comparison (>=, <=, >, <, ==, !=)");
        return token.Text switch
        {
            ">=" => Comparison.GreaterOrEqual,
            "<=" => Comparison.LessOrEqual,
            ">" => Comparison.Greater,
            "<" => Comparison.Less,
            "==" => Comparison.Equal,
            "!=" => Comparison.NotEqual,
            "=" => throw Fail(token.Offset, "use '==' to compare (got '=')"),
            _ => throw Fail(token.Offset, $"expected a comparison (>=, <=, >, <, ==, !=) (got '{token.Text}')"),
        };
    }

    private Quantity Amount()
    {
        var token = Expect("a percentage like 95% or a count like 950");
        if (DurationText.TryParsePercent(token.Text, out var fraction))
        {
            if (fraction is < 0 or > 1)
            {
                throw Fail(token.Offset, $"a percentage must be between 0% and 100% (got '{token.Text}')");
            }

            return new Quantity(fraction, IsShare: true);
        }

        if (int.TryParse(token.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            return new Quantity(count, IsShare: false);
        }

        throw Fail(token.Offset, $"expected a percentage like 95% or a count like 950 (got '{token.Text}')");
    }

    private TimeSpan Duration()
    {
        var token = Expect("a duration like 500ms, 10s or 2m");
        if (!DurationText.TryParse(token.Text, out var value))
        {
            throw Fail(token.Offset, $"expected a duration like 500ms, 10s or 2m (got '{token.Text}')");
        }

        return value;
    }

    private void CheckEvent(Token id)
    {
        if (!_names.Events.ContainsKey(id.Text))
        {
            Error(id.Offset, $"unknown event id '{id.Text}'{Suggestions.Hint(id.Text, _names.Events.Keys.ToArray())}");
        }
    }

    private void CheckPushEvent(Token id)
    {
        if (!_names.Events.TryGetValue(id.Text, out var kind))
        {
            Error(id.Offset, $"unknown event id '{id.Text}'{Suggestions.Hint(id.Text, _names.Events.Where(e => ScenarioAction.IsPush(e.Value)).Select(e => e.Key).ToArray())}");
        }
        else if (!ScenarioAction.IsPush(kind))
        {
            Error(id.Offset, $"event '{id.Text}' is a {kind} event; this needs a push-task, inventory-now or push-policy event");
        }
    }

    private static bool TrySplitState(string word, out ChannelScope scope, out StateMetric metric)
    {
        scope = ChannelScope.Ns;
        var name = word;
        var dot = word.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0)
        {
            switch (word[..dot])
            {
                case "ns": scope = ChannelScope.Ns; break;
                case "ts": scope = ChannelScope.Ts; break;
                case "both": scope = ChannelScope.Both; break;
                default: metric = default; return false;
            }

            name = word[(dot + 1)..];
        }

        switch (name)
        {
            case "connected": metric = StateMetric.Connected; return true;
            case "direct": metric = StateMetric.Direct; return true;
            case "cem": metric = StateMetric.Cem; return true;
            case "offline": metric = StateMetric.Offline; return true;
            case "persistent": metric = StateMetric.Persistent; return true;
            case "http": metric = StateMetric.Http; return true;
            case "running": metric = StateMetric.Running; return true;
            case "proxied": metric = StateMetric.Proxied; return true;
            case "proxy-failing": metric = StateMetric.ProxyFailing; return true;
        }

        var attempt = Enum.GetValues<Tcm.Protocol.Admin.AttemptOutcome>().Where(o => name == "attempt-" + Tcm.Agent.Status.NetworkStatusText.Kebab(o)).Cast<Tcm.Protocol.Admin.AttemptOutcome?>().FirstOrDefault();
        metric = attempt is { } outcome ? StateMetrics.ForAttempt(outcome) : default;
        return attempt is not null;
    }

    // ------------------------------------------------------------ tokens

    private readonly record struct Token(string Text, int Offset);

    private sealed class ParseAbort : Exception;

    private static bool IsOperator(string text) => s_operators.Contains(text) || text is "=" or "/" or "*";

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            var start = i;
            if (c is '<' or '>' or '=' or '!')
            {
                while (i < text.Length && text[i] is '<' or '>' or '=' or '!')
                {
                    i++;
                }
            }
            else if (c is '/' or '*')
            {
                i++;
            }
            else
            {
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ('<' or '>' or '=' or '!' or '/' or '*'))
                {
                    i++;
                }
            }

            tokens.Add(new Token(text[start..i], start));
        }

        return tokens;
    }

    private Token? Peek() => _next < _tokens.Count ? _tokens[_next] : null;

    private bool PeekIs(string word) => Peek() is { } t && t.Text.Equals(word, StringComparison.OrdinalIgnoreCase);

    private Token Take() => _tokens[_next++];

    private Token Expect(string what)
    {
        if (Peek() is { } t)
        {
            _next++;
            return t;
        }

        throw Fail(EndOffset(), $"expected {what} at the end of '{_text.Trim()}'");
    }

    private void ExpectWord(string word, string what)
    {
        var t = Expect(what);
        if (!t.Text.Equals(word, StringComparison.OrdinalIgnoreCase))
        {
            throw Fail(t.Offset, $"expected {what} (got '{t.Text}')");
        }
    }

    private void ExpectEnd()
    {
        if (Peek() is { } t)
        {
            Error(t.Offset, $"unexpected '{t.Text}' after the end of the expression");
        }
    }

    private int EndOffset() => _text.TrimEnd().Length;

    private void Error(int offset, string message) => _errors.Add(new ExpressionError(offset, message));

    private ParseAbort Fail(int offset, string message)
    {
        Error(offset, message);
        return new ParseAbort();
    }
}
