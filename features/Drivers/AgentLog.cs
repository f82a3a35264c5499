using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Tcm.Testing;

namespace Tcm.Features.Drivers;

/// <summary>One line an agent logged: when (since the scenario's fleet was created), the event name, the message and its values.</summary>
internal sealed record AgentLogEntry(TimeSpan At, string EventName, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Values)
{
    public override string ToString() => $"{At.TotalSeconds,7:0.000}s {Level,-11} {EventName}: {Message}";
}

/// <summary>
/// The log of one virtual agent, kept in memory: what the agent says it did, in the product's words ("Connecting to target
/// server ..., attempt 3"), so steps can measure behaviour such as back-off from the agent's own account, and a failed
/// scenario can show it. An <see cref="ILoggerFactory"/> for that one agent.
/// </summary>
internal sealed class AgentLog(Stopwatch clock) : ILoggerFactory
{
    private readonly List<AgentLogEntry> _entries = [];

    public IReadOnlyList<AgentLogEntry> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    /// <summary>Now, on this log's clock: mark a moment, then read <see cref="Since"/>.</summary>
    public TimeSpan Now => clock.Elapsed;

    public IReadOnlyList<AgentLogEntry> Since(TimeSpan mark, string? eventName = null) =>
        [.. Entries.Where(e => e.At >= mark && (eventName is null || e.EventName == eventName))];

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private void Add(AgentLogEntry entry)
    {
        lock (_entries)
        {
            _entries.Add(entry);
        }
    }

    private sealed class Logger(AgentLog log) : TestLogger(LogLevel.Information)
    {
        protected override void Write<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var (key, value) in pairs)
                {
                    values[key] = value;
                }
            }

            var message = formatter(state, exception);
            if (exception is not null)
            {
                message += $" ({exception.GetType().Name}: {exception.Message})";
            }

            log.Add(new AgentLogEntry(log.Now, eventId.Name ?? eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), logLevel, message, values));
        }
    }
}
