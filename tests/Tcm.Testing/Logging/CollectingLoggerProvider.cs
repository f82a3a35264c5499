using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Tcm.Testing;

/// <summary>Keeps every log entry, at every level, so tests can assert on what was logged (a vanished peer logs no error).</summary>
public sealed class CollectingLoggerProvider : ILoggerProvider
{
    /// <summary>Every entry so far, in order.</summary>
    public ConcurrentQueue<Entry> Entries { get; } = new();

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    /// <summary>One log entry.</summary>
    public sealed record Entry(LogLevel Level, string Category, string Message, Exception? Exception);

    private sealed class Logger(CollectingLoggerProvider owner, string category) : TestLogger(LogLevel.Trace)
    {
        protected override void Write<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue(new Entry(logLevel, category, formatter(state, exception), exception));
    }
}
