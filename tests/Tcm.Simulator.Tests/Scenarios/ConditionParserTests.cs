using Tcm.Protocol.Admin;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Tests.Scenarios;

public sealed class ConditionParserTests
{
    private sealed class Names : IScenarioNames
    {
        public IReadOnlyCollection<string> Groups { get; } = ["office", "home-vpn"];
        public IReadOnlyDictionary<string, string> Events { get; } = new Dictionary<string, string> { ["hello"] = "push-task", ["flip"] = "vpn-up" };
        public bool LegacyCompare => true;
        public IReadOnlyCollection<string> Nodes { get; } = ["ns-1", "ns-2"];
    }

    [Fact]
    public void StateCondition_WithGroup()
    {
        var (condition, errors) = ConditionParser.ParseCondition("connected >= 99% of group home-vpn", new Names());

        errors.Should().BeEmpty();
        condition.Should().BeEquivalentTo(new StateCondition(ChannelScope.Ns, StateMetric.Connected, Comparison.GreaterOrEqual, new Quantity(0.99, true), new Population { Group = "home-vpn" }) { Text = "connected >= 99% of group home-vpn" });
    }

    [Theory]
    [InlineData("cem >= 99% of internet", "Cem", "Ns")]
    [InlineData("ts.persistent>=95%", "Persistent", "Ts")]
    [InlineData("both.cem >= 950 of home-vpn", "Cem", "Both")]
    [InlineData("attempt-connection-refused >= 99%", "AttemptConnectionRefused", "Ns")]
    [InlineData("ts.attempt-backend-not-configured >= 1", "AttemptBackendNotConfigured", "Ts")]
    [InlineData("both.attempt-tls-failure == 0", "AttemptTlsFailure", "Both")]
    public void StateConditions(string text, string metricName, string scopeName)
    {
        var metric = Enum.Parse<StateMetric>(metricName);
        var scope = Enum.Parse<ChannelScope>(scopeName);
        var (condition, errors) = ConditionParser.ParseCondition(text, new Names());

        errors.Should().BeEmpty();
        var state = condition.Should().BeOfType<StateCondition>().Subject;
        state.Metric.Should().Be(metric);
        state.Channel.Should().Be(scope);
    }

    [Fact]
    public void AttemptMetrics_OnePerOutcome_InItsOrder()
    {
        foreach (var outcome in Enum.GetValues<AttemptOutcome>())
        {
            var metric = StateMetrics.ForAttempt(outcome);
            Enum.IsDefined(metric).Should().BeTrue($"{outcome} needs its attempt metric");
            metric.ToString().Should().Be("Attempt" + outcome);
            StateMetrics.AttemptOf(metric).Should().Be(outcome);
        }

        StateMetrics.AttemptOf(StateMetric.Running).Should().BeNull();
    }

    [Fact]
    public void Expectations_OfEveryShape()
    {
        Parse("both.cem >= 99% of home-vpn within 10s after flip").Should().BeOfType<StateExpectation>().Which.Window.Should().Be(new WithinWindow(TimeSpan.FromSeconds(10), "flip"));
        Parse("offline == 0 of office throughout after flip").Should().BeOfType<StateExpectation>().Which.Window.Should().Be(new ThroughoutWindow("flip"));
        Parse("task-completed hello >= 99% within 5s").Should().BeOfType<ActionExpectation>().Which.Within.Should().Be(TimeSpan.FromSeconds(5));
        Parse("no-lost-results").Should().BeOfType<IntegrityExpectation>().Which.Check.Should().Be(IntegrityCheck.NoLostResults);
        Parse("p99 delivered hello <= 1s").Should().BeOfType<LatencyExpectation>().Which.Percentile.Should().BeApproximately(0.99, 1e-9);
        Parse("p95 completed <= 2s").Should().BeOfType<LatencyExpectation>().Which.EventId.Should().BeNull();
        Parse("vpn-package-bytes == 0").Should().BeOfType<TrafficExpectation>().Which.Value.Should().Be(0);
        Parse("package-bytes <= 10MB").Should().BeOfType<TrafficExpectation>().Which.Value.Should().Be(10 << 20);
        Parse("requests-per-agent-hour <= legacy / 20").Should().BeOfType<TrafficExpectation>().Which.LegacyFactor.Should().BeApproximately(0.05, 1e-12);
    }

    [Theory]
    [InlineData("cem >= 120%", 7, "a percentage must be between 0% and 100% (got '120%')")]
    [InlineData("cem >= lots", 7, "expected a percentage like 95% or a count like 950 (got 'lots')")]
    [InlineData("cem >= 99% of nowhere", 14, "unknown group 'nowhere'")]
    [InlineData("cem >=", 6, "expected a percentage like 95% or a count like 950 at the end of 'cem >='")]
    [InlineData("cem >= 99% extra", 11, "unexpected 'extra' after the end of the expression")]
    public void Errors_PointAtTheOffset(string text, int offset, string message)
    {
        var (_, errors) = ConditionParser.ParseCondition(text, new Names());

        errors.Should().ContainSingle();
        errors[0].Offset.Should().Be(offset);
        errors[0].Message.Should().StartWith(message);
    }

    private static Expectation Parse(string text)
    {
        var (expectation, errors) = ConditionParser.ParseExpectation("e", text, new Names(), default);
        errors.Should().BeEmpty();
        return expectation!;
    }
}
