using YamlDotNet.RepresentationModel;

namespace Tcm.Simulator.Scenarios;

/// <summary>
/// Checks <c>timeline:</c>: declares the explicit event ids first (events and expectations may refer to any of them, in any
/// order), then checks each event's keys for its action, its trigger, action and selection, and finally loops of <c>after</c>s.
/// </summary>
internal sealed class TimelineValidator(ValidationContext context)
{
    private static readonly string[] s_eventKeys = ["id", "at", "after", "delay", "timeout", "do", "select"];

    public List<TimelineEvent> Validate(SectionList<EventDocument> list, TimeSpan duration)
    {
        var events = new List<TimelineEvent>();
        if (list.Single is { } single)
        {
            context.Error(list.Start, $"'timeline' must be a list of events, each starting with '- ' (got {single.Shape})");
            return events;
        }

        foreach (var item in list.Items.Where(i => i.Other is null))
        {
            if (item.Id is not YamlScalarNode { Value: { Length: > 0 } id } idNode)
            {
                continue;
            }

            if (!ValidationContext.IdentifierPattern().IsMatch(id))
            {
                context.Error(idNode.Start, $"an event id may use letters, digits, '-', '_' and '.' only (got '{id}')");
            }
            else if (!context.EventKinds.TryAdd(id, DoWord(item)))
            {
                context.Error(idNode.Start, $"there is already an event with id '{id}'");
            }
        }

        var index = 0;
        string? previousId = null;
        foreach (var item in list.Items)
        {
            index++;
            var e = Event(item, index, duration, previousId);
            if (e is not null)
            {
                events.Add(e);
            }

            previousId = e?.Id ?? (item.Other is not null ? null : ExplicitId(item) ?? $"{DoWord(item)}-{index}");
        }

        CheckCycles(events);
        return events;
    }

    private static string DoWord(EventDocument item) => item.Do is YamlScalarNode { Value: { } k } ? k.Trim().ToLowerInvariant() : WaitAction.Word;

    private static string? ExplicitId(EventDocument item) => item.Id is YamlScalarNode { Value: { Length: > 0 } id } ? id : null;

    private TimelineEvent? Event(EventDocument document, int index, TimeSpan duration, string? previousId)
    {
        if (!context.IsMapping(document, "a timeline event must be a mapping like '- at: 10s' with 'do: ...'"))
        {
            return null;
        }

        // The action decides which keys are allowed, so read 'do' first.
        var kind = WaitAction.Word;
        var kindOk = true;
        if (document.Do is { } doNode)
        {
            var word = context.Scalar(doNode, "do")?.Trim().ToLowerInvariant();
            if (word is not null && ActionValidator.KeysOf.ContainsKey(word))
            {
                kind = word;
            }
            else
            {
                kindOk = false;
                if (word is not null)
                {
                    context.Error(doNode.Start, $"unknown action '{word}'{Suggestions.Hint(word, ActionValidator.KeysOf.Keys.ToArray())}");
                }
            }
        }

        context.CheckKeys(document, kindOk ? $"a {kind} event" : "an event", [.. s_eventKeys, .. ActionValidator.KeysOf[kind]], key =>
        {
            if (!kindOk)
            {
                return ActionValidator.KeysOf.Values.Any(keys => keys.Contains(key)) ? "" : null;
            }

            var owners = ActionValidator.KeysOf.Where(a => a.Value.Contains(key)).Select(a => a.Key).ToArray();
            return owners.Length == 0 ? null : $"'{key}' does not apply to {kind}; it goes with {string.Join(", ", owners)}";
        });

        var idText = ExplicitId(document);
        var eventId = idText ?? $"{kind}-{index}";
        var trigger = Trigger(document, kind, eventId, previousId, duration);
        var action = kindOk ? new ActionValidator(context).Validate(kind, document) : null;

        var select = Selection.All;
        if (document.Select is { } selectDocument)
        {
            if (kind is SetTcmAction.Word or ServerAction.StopWord or ServerAction.StartWord or ServerAction.KillWord or WaitAction.Word)
            {
                context.Error(document.KeyOf("select").Start, $"'select' does not apply to {kind}: it does not act on agents");
            }
            else
            {
                select = new SelectionValidator(context).Validate(selectDocument);
            }
        }

        return trigger is null || action is null
            ? null
            : new TimelineEvent { Id = eventId, HasExplicitId = idText is not null, Trigger = trigger, Action = action, Select = select, Position = ValidationContext.Position(document.Start) };
    }

    private Trigger? Trigger(EventDocument document, string kind, string eventId, string? previousId, TimeSpan duration)
    {
        // On push-task, 'timeout' is the task's own timeout, not the condition wait's.
        var timeoutNode = kind == PushTaskAction.Word ? null : document.Timeout;
        if (document.At is not null && document.After is not null)
        {
            context.Error(document.Start, "an event takes 'at' or 'after', not both");
            return null;
        }

        if (document.At is { } atNode)
        {
            Trigger? trigger = null;
            if (context.Duration(atNode, "at") is { } at)
            {
                if (at >= duration)
                {
                    context.Error(atNode.Start, $"'at: {DurationText.Format(at)}' is not before the end of the run ('duration: {DurationText.Format(duration)}')");
                }

                trigger = new AtTrigger(at);
            }

            if (document.Delay is { } delayNode)
            {
                context.Error(delayNode.Start, "'delay' goes with 'after'; with 'at', write the time itself");
            }

            if (timeoutNode is not null)
            {
                context.Error(timeoutNode.Start, "'timeout' goes with 'after: <condition>' (how long to wait for it)");
            }

            return trigger;
        }

        if (document.After is { } afterNode)
        {
            var delay = document.Delay is { } delayNode ? context.Duration(delayNode, "delay") ?? TimeSpan.Zero : TimeSpan.Zero;
            return context.Scalar(afterNode, "after") is { } afterText
                ? After((YamlScalarNode)afterNode, afterText, delay, timeoutNode, eventId, previousId)
                : null;
        }

        context.Error(document.Start, "an event needs 'at: <time>' (like 'at: 30s') or 'after: <event-id or condition>'");
        return null;
    }

    private Trigger? After(YamlScalarNode node, string text, TimeSpan delay, YamlNode? timeoutNode, string selfId, string? previousId)
    {
        var trimmed = text.Trim();
        if (ValidationContext.IdentifierPattern().IsMatch(trimmed) && !ConditionParser.StartWords.Contains(trimmed, StringComparer.OrdinalIgnoreCase))
        {
            if (timeoutNode is not null)
            {
                context.Error(timeoutNode.Start, "'timeout' goes with 'after: <condition>'; an event id always happens (or the run ends)");
            }

            if (trimmed == selfId)
            {
                context.Error(node.Start, $"event '{selfId}' cannot come after itself");
                return null;
            }

            if (!context.EventKinds.ContainsKey(trimmed))
            {
                context.Error(node.Start, $"unknown event id '{trimmed}' in 'after'{Suggestions.Hint(trimmed, context.EventKinds.Keys.ToArray())}");
                return null;
            }

            return new AfterEventTrigger(trimmed, delay);
        }

        var (condition, errors) = ConditionParser.ParseCondition(text, context);
        foreach (var e in errors)
        {
            context.ErrorInScalar(node, e);
        }

        TimeSpan? timeout = timeoutNode is not null ? context.PositiveDuration(timeoutNode, "timeout") : null;
        return condition is null ? null : new AfterConditionTrigger(condition, delay, timeout) { SinceEventId = previousId };
    }

    private void CheckCycles(List<TimelineEvent> events)
    {
        var byId = events.Where(e => e.HasExplicitId).DistinctBy(e => e.Id, StringComparer.Ordinal).ToDictionary(e => e.Id, StringComparer.Ordinal);
        foreach (var e in events)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal) { e.Id };
            var current = e;
            while (current.Trigger is AfterEventTrigger after && byId.TryGetValue(after.EventId, out var next))
            {
                if (!seen.Add(next.Id))
                {
                    if (next.Id == e.Id)
                    {
                        context.Error(e.Position, $"event '{e.Id}' waits for itself through 'after': {string.Join(" -> ", seen)} -> {e.Id}");
                    }

                    break;
                }

                current = next;
            }
        }
    }
}
