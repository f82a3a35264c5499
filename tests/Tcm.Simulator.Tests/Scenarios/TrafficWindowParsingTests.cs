using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Tests.Scenarios;

public sealed class TrafficWindowParsingTests
{
    private const string Scenario = """
        name: window
        fleet:
          agents: 10
          legacy: compare
          groups:
            - name: office
              share: 100%
        timeline:
          - id: start
            at: 0s
            do: start-agents
          - id: settled
            after: start
            delay: 10s
        expect:
          steady: bytes-per-agent-hour <= legacy / 20 after settled
          whole run: requests <= 100
        """;

    [Fact]
    public void TrafficExpectation_AfterAnEvent_NamesItsWindow()
    {
        var result = ScenarioLoader.Parse(Scenario, "window.yaml");

        result.Succeeded.Should().BeTrue(string.Join("\n", result.Errors));
        var traffic = result.Scenario!.Expectations.OfType<TrafficExpectation>().ToArray();
        traffic.Single(t => t.Name == "steady").AfterEventId.Should().Be("settled");
        traffic.Single(t => t.Name == "steady").LegacyFactor.Should().BeApproximately(0.05, 1e-9);
        traffic.Single(t => t.Name == "whole run").AfterEventId.Should().BeNull();
    }

    [Fact]
    public void TrafficExpectation_AfterAnUnknownEvent_IsAnErrorWithItsPosition()
    {
        var result = ScenarioLoader.Parse(Scenario.Replace("after settled", "after setled", StringComparison.Ordinal), "window.yaml");

        result.Succeeded.Should().BeFalse();
        result.Errors.Should().ContainSingle(e => e.Message.Contains("setled", StringComparison.Ordinal) && e.Line == 16);
    }
}
