using Microsoft.Extensions.Logging;

namespace Tcm.Testing;

/// <summary>
/// What every logger of the test kit shares: no scopes, a minimum level, and one write per enabled entry. A subclass says only
/// where an entry goes (the test's output, a list to assert on, a feature's agent log).
/// </summary>
/// <param name="minimum">The lowest level written.</param>
public abstract class TestLogger(LogLevel minimum) : ILogger
{
    /// <inheritdoc />
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    /// <inheritdoc />
    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

    /// <inheritdoc />
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            Write(logLevel, eventId, state, exception, formatter);
        }
    }

    /// <summary>Writes one entry of at least the minimum level.</summary>
    protected abstract void Write<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter);
}
