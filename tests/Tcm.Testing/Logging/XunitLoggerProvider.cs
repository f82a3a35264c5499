using Microsoft.Extensions.Logging;

namespace Tcm.Testing;

/// <summary>
/// Routes logs of <see cref="LogLevel.Information"/> and above to the test's output, each line with a time, a prefix naming
/// the speaker ("NS", an agent's name) and the short category, so a failing test shows what the agents and servers said.
/// </summary>
public sealed class XunitLoggerProvider(ITestOutputHelper output, string prefix) : ILoggerProvider
{
    /// <summary>A logger factory with only this provider, at <see cref="LogLevel.Information"/>: what a real agent under test logs to.</summary>
    public static ILoggerFactory CreateFactory(ITestOutputHelper output, string prefix) =>
        LoggerFactory.Create(b => b.AddProvider(new XunitLoggerProvider(output, prefix)).SetMinimumLevel(LogLevel.Information));

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new XunitLogger(output, prefix, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private sealed class XunitLogger(ITestOutputHelper output, string prefix, string category) : TestLogger(LogLevel.Information)
    {
        protected override void Write<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try
            {
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {prefix} {logLevel.ToString()[..4]} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.GetType().Name + ": " + exception.Message)}");
            }
            catch (InvalidOperationException)
            {
                // The test has finished; late log lines from shutdown have nowhere to go.
            }
        }
    }
}
