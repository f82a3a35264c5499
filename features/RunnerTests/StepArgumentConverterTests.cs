using FluentAssertions;
using Tcm.Features.Runner;
using Xunit;

namespace Tcm.Features.RunnerTests;

public sealed class StepArgumentConverterTests
{
    public enum Mode
    {
        Direct,
        PreferCem,
    }

    public static TheoryData<string, Type, object?> Conversions => new()
    {
        { "42", typeof(int), 42 },
        { "-7", typeof(int), -7 },
        { "20,000", typeof(int), 20_000 },
        { "9000000000", typeof(long), 9_000_000_000L },
        { "2.5", typeof(double), 2.5 },
        { "99%", typeof(double), 0.99 },
        { "0.1 %", typeof(decimal), 0.001m },
        { "12.5%", typeof(float), 0.125f },
        { "1.25", typeof(decimal), 1.25m },
        { "true", typeof(bool), true },
        { "No", typeof(bool), false },
        { "enabled", typeof(bool), true },
        { "off", typeof(bool), false },
        { "500ms", typeof(TimeSpan), TimeSpan.FromMilliseconds(500) },
        { "10s", typeof(TimeSpan), TimeSpan.FromSeconds(10) },
        { "1.5 s", typeof(TimeSpan), TimeSpan.FromMilliseconds(1500) },
        { "2m", typeof(TimeSpan), TimeSpan.FromMinutes(2) },
        { "3 minutes", typeof(TimeSpan), TimeSpan.FromMinutes(3) },
        { "1h", typeof(TimeSpan), TimeSpan.FromHours(1) },
        { "1m30s", typeof(TimeSpan), TimeSpan.FromSeconds(90) },
        { "00:00:10", typeof(TimeSpan), TimeSpan.FromSeconds(10) },
        { "direct", typeof(Mode), Mode.Direct },
        { "prefer CEM", typeof(Mode), Mode.PreferCem },
        { "prefer-cem", typeof(Mode), Mode.PreferCem },
        { "7", typeof(int?), 7 },
        { "", typeof(int?), null },
        { " spaced ", typeof(string), " spaced " },
    };

    [Theory]
    [MemberData(nameof(Conversions))]
    public void Converts(string text, Type type, object? expected) =>
        StepArgumentConverter.Convert(text, type, "p").Should().Be(expected);

    [Theory]
    [InlineData("abc", typeof(int), "Cannot convert 'abc' to Int32 for 'count'")]
    [InlineData("99%", typeof(int), "a percentage converts to double, float or decimal")]
    [InlineData("maybe", typeof(bool), "Cannot convert 'maybe' to Boolean for 'count'.")]
    [InlineData("soon", typeof(TimeSpan), "expected a duration such as 500ms")]
    [InlineData("sideways", typeof(Mode), "expected one of: Direct, PreferCem")]
    [InlineData("3000000000", typeof(int), "Cannot convert '3000000000' to Int32")]
    public void Rejects_WithAMessageNamingValueTypeAndParameter(string text, Type type, string message)
    {
        var convert = () => StepArgumentConverter.Convert(text, type, "count");

        convert.Should().Throw<StepArgumentConversionException>().WithMessage($"*{message}*");
    }
}
