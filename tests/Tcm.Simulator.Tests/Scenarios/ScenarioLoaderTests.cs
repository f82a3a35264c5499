using Tcm.Protocol;
using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Tests.Scenarios;

public sealed class ScenarioLoaderTests
{
    private const string Minimal = """
        name: t
        duration: 2m
        fleet:
          agents: 100
          groups:
            - name: office
              share: 50%
              location: office
            - name: home
              share: 50%
              location: internet
              vpn: down
        timeline:
          - id: start
            at: 0s
            do: start-agents
          - id: push
            after: start
            do: push-task
            command: echo

        """;

    public static TheoryData<string> ShippedScenarios()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(TestPaths.Scenarios, "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ShippedScenarios))]
    public void ShippedScenario_Validates(string fileName)
    {
        var result = ScenarioLoader.Load(Path.Combine(TestPaths.Scenarios, fileName));

        result.Errors.Should().BeEmpty();
        result.Scenario!.Description.Should().NotBeNullOrWhiteSpace();
        result.Scenario.Expectations.Should().NotBeEmpty();
    }

    [Fact]
    public void ShippedScenarios_IncludeTheOnesTheDesignNames()
    {
        var names = Directory.GetFiles(TestPaths.Scenarios, "*.yaml").Select(Path.GetFileNameWithoutExtension);
        names.Should().Contain(["quickstart", "vpn-prefer-cem", "gateway-outage", "taskserver-failover", "legacy-vs-tcm", "connect-storm"]);
    }

    [Fact]
    public void Quickstart_ParsesIntoTheModel()
    {
        var scenario = ScenarioLoader.LoadOrThrow(Path.Combine(TestPaths.Scenarios, "quickstart.yaml"));

        scenario.Fleet.Agents.Should().Be(1000);
        scenario.Duration.Should().BeLessThan(TimeSpan.FromMinutes(2));
        scenario.System.Should().BeOfType<LabSystem>().Which.Tcm.Should().BeTrue();
        scenario.Fleet.ResolveCounts(1000).Should().Equal(400, 300, 300);
        scenario.FindGroup("home-vpn")!.VpnAdapters.Should().ContainSingle().Which.Description.Should().Be("Check Point Virtual Network Adapter For Endpoint VPN Client");
        scenario.Settings.PreferCemIfVpn.Should().BeTrue();
        scenario.FindEvent("start")!.Action.Should().BeOfType<StartAgentsAction>().Which.Ramp.Should().Be(TimeSpan.FromSeconds(20));
        scenario.FindEvent("ready")!.Trigger.Should().BeOfType<AfterConditionTrigger>().Which.SinceEventId.Should().Be("start");
        scenario.FindEvent("vpn-flip")!.Select.Groups.Should().Equal("home-vpn");
        var hello = scenario.FindEvent("hello")!;
        hello.Trigger.Should().Be(new AfterEventTrigger("vpn-flip", TimeSpan.FromSeconds(10)));
        hello.Action.Should().BeOfType<PushTaskAction>().Which.Timeout.Should().Be(TimeSpan.FromSeconds(30));
        scenario.Expectations.OfType<StateExpectation>().Should().Contain(e =>
            e.Condition.Channel == ChannelScope.Both && e.Condition.Metric == StateMetric.Cem && e.Condition.Of.Group == "home-vpn"
            && e.Window == new WithinWindow(TimeSpan.FromSeconds(10), "vpn-flip"));
        scenario.Expectations.OfType<LatencyExpectation>().Should().ContainSingle(e => e.EventId == "hello" && e.Threshold == TimeSpan.FromSeconds(2));
        scenario.Expectations.OfType<IntegrityExpectation>().Should().HaveCount(2);
    }

    [Fact]
    public void Minimal_Parses()
    {
        var result = ScenarioLoader.Parse(Minimal, "t.yaml");

        result.Errors.Should().BeEmpty();
        result.Scenario!.Timeline.Should().HaveCount(2);
    }

    /// <summary>One mistake in a scenario (named for what it shows), the text, and the one error it gives: file, line, column and message.</summary>
    public static TheoryData<string, string, string> SingleMistakes() => new()
    {
        { "UnknownKey_IsAnErrorWithDidYouMean", Minimal.Replace("      location: office", "      locaton: office", StringComparison.Ordinal), "t.yaml:8:7: unknown key 'locaton' in a fleet group; did you mean 'location'?" },
        { "BadDuration_NamesTheExpectedForm", Minimal.Replace("duration: 2m", "duration: soon", StringComparison.Ordinal), "t.yaml:2:11: 'duration' must be a duration like 500ms, 30s or 2m (got 'soon')" },
        { "SharesNotAddingUp_IsAnError", Minimal.Replace("      share: 50%\n      location: internet", "      share: 40%\n      location: internet", StringComparison.Ordinal), "t.yaml:5:3: group shares add up to 90%, not 100% (office 50% + home 40%)" },
        { "GroupThroughTheProxy_WithoutALabProxy_IsAnError", Minimal.Replace("      location: office", "      location: office\n      proxy: only", StringComparison.Ordinal), "t.yaml:9:14: group 'office' goes through the proxy, but the lab has none: add 'proxy:' under 'system.lab'" },
        { "RefuseCredentials_OnAServerThatIsNotTheProxy_IsAnError", Minimal + "  - at: 5s\n    do: refuse-credentials\n    server: ns\n", "t.yaml:23:13: unknown server 'ns' (only the lab's proxy asks for credentials)" },
        { "UnknownGroupInSelect_IsAnError", Minimal + "    select: hme\n", "t.yaml:21:13: unknown group 'hme'; did you mean 'home'?" },
        { "UnknownEventInAfter_IsAnError", Minimal.Replace("after: start", "after: strat", StringComparison.Ordinal), "t.yaml:18:12: unknown event id 'strat' in 'after'; did you mean 'start'?" },
        { "BadCondition_PointsAtTheBadWord", Minimal + "  - after: persistent => 95%\n", "t.yaml:21:23: expected a comparison (>=, <=, >, <, ==, !=) (got '=>')" },
        { "QuotedCondition_ColumnSkipsTheQuote", Minimal + "  - after: \"cem >= 99% of homee\"\n", "t.yaml:21:27: unknown group 'homee'; did you mean 'home'?" },
        { "KeyOfAnotherAction_SaysWhereItBelongs", Minimal + "    ramp: 10s\n", "t.yaml:21:5: 'ramp' does not apply to push-task; it goes with start-agents" },
        { "MissingFleet_IsAnError", "name: x\n", "t.yaml:1:1: the scenario needs 'fleet' (with 'agents: N')" },
    };

    [Theory]
    [MemberData(nameof(SingleMistakes))]
    public void OneMistake_GivesOneErrorAtItsPosition(string mistake, string yaml, string expected) =>
        Errors(yaml).Should().ContainSingle(mistake).Which.Should().Be(expected);

    [Fact]
    public void BadShare_NamesTheExpectedForm()
    {
        var errors = Errors(Minimal.Replace("      share: 50%\n      location: internet", "      share: lots\n      location: internet", StringComparison.Ordinal));

        errors.Should().Contain("t.yaml:10:14: 'share' must be a percentage like 25% (got 'lots')");
    }

    [Fact]
    public void UnknownMeasureInCondition_SuggestsTheRightOne()
    {
        var errors = Errors(Minimal + "  - after: persistant >= 95%\n");

        errors.Should().ContainSingle().Which.Should().StartWith("t.yaml:21:12: unknown measure 'persistant'; did you mean 'persistent'?");
    }

    [Fact]
    public void BadExpectations_AreAllReported()
    {
        var errors = Errors(Minimal + """
            expect:
              a: cem >= 99% of home within 10s after flipp
              b: p99 delivered start <= 1s
              c: vpn-package-bytes = 0
              d: requests-per-agent-hour <= legacy / 20

            """);

        errors.Should().HaveCount(4);
        errors[0].Should().Be("t.yaml:22:42: unknown event id 'flipp'; expected one of: start, push");
        errors[1].Should().Be("t.yaml:23:20: event 'start' is a start-agents event; this needs a push-task, inventory-now or push-policy event");
        errors[2].Should().Be("t.yaml:24:24: use '==' to compare (got '=')");
        errors[3].Should().StartWith("t.yaml:25:33: 'legacy' needs 'legacy: compare'");
    }

    [Fact]
    public void AllErrors_AreCollected_NotJustTheFirst()
    {
        var text = Minimal
            .Replace("duration: 2m", "duration: soon", StringComparison.Ordinal)
            .Replace("      location: office", "      locaton: office", StringComparison.Ordinal)
            .Replace("after: start", "after: strat", StringComparison.Ordinal)
            .Replace("do: start-agents", "do: start-agent", StringComparison.Ordinal);

        Errors(text).Should().HaveCount(4);
    }

    [Fact]
    public void RepeatedKey_IsReportedWithTheOtherErrors()
    {
        var errors = Errors(Minimal.Replace("duration: 2m", "duration: soon\nname: again", StringComparison.Ordinal));

        errors.Should().Equal(
            "t.yaml:2:11: 'duration' must be a duration like 500ms, 30s or 2m (got 'soon')",
            "t.yaml:3:1: this key appears twice in the same mapping");
    }

    [Fact]
    public void InvalidYaml_GivesAPosition()
    {
        var errors = Errors("name: x\nfleet:\n  agents: [1, 2\n");

        errors.Should().ContainSingle().Which.Should().MatchRegex(@"^t\.yaml:\d+:\d+: not valid YAML");
    }

    [Fact]
    public void AfterCycle_IsAnError()
    {
        var errors = Errors("""
            fleet: { agents: 1 }
            timeline:
              - id: a
                after: b
              - id: b
                after: a
            """);

        errors.Should().Contain(e => e.Contains("waits for itself", StringComparison.Ordinal));
    }

    [Fact]
    public void ServerActions_KnowTheLab()
    {
        var errors = Errors("""
            system: { lab: { taskServers: 2, gateway: false } }
            fleet: { agents: 1 }
            timeline:
              - at: 1s
                do: stop-server
                server: ts3
              - at: 2s
                do: kill-server
                server: gateway
              - at: 3s
                do: start-server
                server: ts2
            """);

        errors.Should().HaveCount(2);
        errors[0].Should().StartWith("t.yaml:6:13: unknown server 'ts3' (the lab has 2 Task Server(s)");
        errors[1].Should().StartWith("t.yaml:9:13: unknown server 'gateway' (the lab has 'gateway: false')");
    }

    [Fact]
    public void SelectionMapping_Parses()
    {
        var result = ScenarioLoader.Parse(Minimal + """
                select:
                  group: [office, home]
                  share: 10%
                  where: { location: internet, vpn: up, os: "Windows 11*" }

            """, "t.yaml");

        result.Errors.Should().BeEmpty();
        var select = result.Scenario!.FindEvent("push")!.Select;
        select.Groups.Should().Equal("office", "home");
        select.Share.Should().BeApproximately(0.1, 1e-9);
        select.Where.Location.Should().Be(AgentLocation.Internet);
        select.Where.Vpn.Should().Be(VpnState.Up);
        select.Where.Attributes["os"].Should().Be("Windows 11*");
    }

    [Fact]
    public void DownloadCodebases_AreKindsOrKindsAtSites()
    {
        var result = ScenarioLoader.Parse("""
            fleet: { agents: 1 }
            timeline:
              - id: plain
                at: 1s
                do: download-package
                package: p1
              - id: sites
                at: 2s
                do: download-package
                package: p2
                codebases: [{ kind: unc, site: London }, http, { kind: https }]
            """, "t.yaml");

        result.Errors.Should().BeEmpty();
        result.Scenario!.FindEvent("plain")!.Action.Should().BeOfType<DownloadPackageAction>().Which.Codebases
            .Should().Equal(new CodebaseSpec(CodebaseKind.Unc), new CodebaseSpec(CodebaseKind.Http), new CodebaseSpec(CodebaseKind.Https));
        result.Scenario.FindEvent("sites")!.Action.Should().BeOfType<DownloadPackageAction>().Which.Codebases
            .Should().Equal(new CodebaseSpec(CodebaseKind.Unc, "London"), new CodebaseSpec(CodebaseKind.Http), new CodebaseSpec(CodebaseKind.Https));
    }

    [Fact]
    public void BadDownloadCodebases_SayWhereAndWhatIsAllowed()
    {
        var errors = Errors("""
            fleet: { agents: 1 }
            timeline:
              - at: 1s
                do: download-package
                package: p
                codebases: [smb, { kind: ftp }, { site: London }, { kind: unc, sight: Paris }]
              - at: 2s
                do: download-package
                package: q
                codebases: []
            """);

        errors.Should().Equal(
            "t.yaml:6:17: 'codebases' may list unc, http and https, or { kind: unc, site: London } (got 'smb')",
            "t.yaml:6:30: 'kind' must be unc, http or https (got 'ftp')",
            "t.yaml:6:37: a codebase needs 'kind' (unc, http or https), like { kind: unc, site: London }",
            "t.yaml:6:68: unknown key 'sight' in a codebase; expected one of: kind, site",
            "t.yaml:10:16: 'codebases' needs at least one of unc, http, https");
    }

    [Fact]
    public void ExternalSystem_Parses()
    {
        var result = ScenarioLoader.Parse("""
            system:
              external:
                url: https://ns.example:4443
                adminKey: ${TCM_ADMIN_KEY}
                caFile: ca.pem
            fleet: { agents: 10 }
            """, "t.yaml");

        result.Errors.Should().BeEmpty();
        result.Scenario!.System.Should().BeOfType<ExternalSystem>().Which.Url.Should().Be(new Uri("https://ns.example:4443"));
    }

    private static List<string> Errors(string yaml) =>
        ScenarioLoader.Parse(yaml.Replace("\r\n", "\n", StringComparison.Ordinal), "t.yaml").Errors.Select(e => e.ToString()).ToList();
}
