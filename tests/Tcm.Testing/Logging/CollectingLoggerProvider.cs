using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Tcm.Testing;

/// <summary>One log entry kept by <see cref="CollectingLoggerProvider"/>.</summary>
public sealed record LogEntry(LogLevel Level, string Category, string Message, Exception? Exception);

/// <summary>Keeps every log entry, at every level, so tests can assert on what was logged (a vanished peer logs no error).</summary>
public sealed class CollectingLoggerProvider : ILoggerProvider
{
    /// <summary>Every entry so far, in order.</summary>
    public ConcurrentQueue<LogEntry> Entries { get; } = new();

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private sealed class Logger(CollectingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue(new LogEntry(logLevel, category, formatter(state, exception), exception));
    }
}
