namespace Tcm.Gateway.Tests;

public sealed class GatewayOptionsValidatorTests
{
    private static GatewayOptions Valid() => new()
    {
        Name = "gw1",
        Backends =
        [
            new GatewayBackendOptions { Name = "ns1", Address = "ns1.corp:4443" },
            new GatewayBackendOptions { Name = "ts1", Address = "ts1.corp:4726", Kind = BackendKind.TaskServer },
        ],
    };

    [Fact]
    public void TheDefaultsWithBackends_AreValid() =>
        new GatewayOptionsValidator().Validate(null, Valid()).Succeeded.Should().BeTrue();

    [Fact]
    public void Destinations_AreCheckedOneByOne_AndNotTakenWithConnectTo()
    {
        var options = Valid();
        options.Backends[0].Destinations = ["node-a.corp:4443", "node-b.corp"];
        options.Backends[1].Destinations = ["ts1-a.corp:4726"];
        options.Backends[1].ConnectTo = "ts1-b.corp:4726";

        var failures = new GatewayOptionsValidator().Validate(null, options).Failures!.ToList();

        failures.Should().Contain(f => f.StartsWith("Gateway:Backends:0:Destinations:1:") && f.Contains("needs its port"));
        failures.Should().Contain("Gateway:Backends:1: set ConnectTo or Destinations, not both.");
        failures.Should().HaveCount(2);
    }

    [Fact]
    public void EveryProblem_IsNamedWithItsSetting()
    {
        var options = Valid();
        options.Port = 70000;
        options.ListenAddress = "somewhere";
        options.TunnelIdleTimeout = TimeSpan.Zero;
        options.Backends.Add(new GatewayBackendOptions { Name = "ns1", Address = "NS1.corp:4443" });
        options.Backends.Add(new GatewayBackendOptions { Name = "ns3", Address = "ns3.corp" });
        options.Backends.Add(new GatewayBackendOptions { Name = "ts2", Address = "ts2.corp:4726", Kind = BackendKind.TaskServer, Identity = "nsX" });

        var failures = new GatewayOptionsValidator().Validate(null, options).Failures!.ToList();

        failures.Should().Contain(f => f.StartsWith("Gateway:Port 70000"));
        failures.Should().Contain(f => f.StartsWith("Gateway:ListenAddress 'somewhere'"));
        failures.Should().Contain(f => f.StartsWith("Gateway:TunnelIdleTimeout"));
        failures.Should().Contain("Gateway:Backends:2:Name 'ns1' is used by another backend.");
        failures.Should().Contain("Gateway:Backends:2:Address 'NS1.corp:4443' is also the address of backend 'ns1'.");
        failures.Should().Contain(f => f.StartsWith("Gateway:Backends:3:Address:") && f.Contains("needs its port"));
        failures.Should().Contain("Gateway:Backends:4:Identity 'nsX' names no Notification Server backend.");
    }

    [Fact]
    public void TheGatewaysOwnAdmission_HoldsPlacesThroughTheConnect_AndAQueueTimeoutLongerThanAnAgentWaits_IsRefused()
    {
        var options = Valid();
        options.Admission.ConnectHoldLimit.Should().Be(TimeSpan.FromSeconds(10), "the gateway admits whole connects, not TLS alone");
        options.Admission.MaxConcurrentHandshakes.Should().Be(128);
        options.Admission.QueueTimeout = TimeSpan.FromSeconds(26);

        new GatewayOptionsValidator().Validate(null, options).Failures.Should().ContainSingle().Which.Should().StartWith("Gateway:Admission:QueueTimeout");
    }

    [Theory]
    [InlineData("00:00:00.500", null)]
    [InlineData("00:00:31", "Gateway:Admission:ConnectHoldLimit 00:00:31 must be greater than zero and at most 30 seconds")]
    [InlineData("-00:00:01", "Gateway:Admission:ConnectHoldLimit -00:00:01 must be greater than zero")]
    [InlineData("00:00:00", null)]
    public void AConnectHoldLimit_IsZeroOrUpToTheAgentsRequestTimeout(string limit, string? failure)
    {
        var options = Valid();
        options.Admission.ConnectHoldLimit = TimeSpan.Parse(limit, System.Globalization.CultureInfo.InvariantCulture);

        var failures = new GatewayOptionsValidator().Validate(null, options).Failures ?? [];

        if (failure is null)
        {
            failures.Should().BeEmpty();
        }
        else
        {
            failures.Should().ContainSingle().Which.Should().StartWith(failure);
        }
    }

    [Fact]
    public void NoNotificationServer_IsRefused()
    {
        var options = new GatewayOptions { Backends = [new GatewayBackendOptions { Name = "ts1", Address = "ts1:4726", Kind = BackendKind.TaskServer }] };
        new GatewayOptionsValidator().Validate(null, options).Failures.Should().Contain(f => f.Contains("no Notification Server"));
    }

    [Theory]
    [InlineData("00:00:00.500", "00:00:30", "00:00:20", "Gateway:Http2KeepAlivePingDelay 00:00:00.5000000 must be zero (no pings) or between 1 second")]
    [InlineData("00:00:00", "-00:00:01", "00:00:20", "Gateway:BackendKeepAlivePingDelay -00:00:01 must be zero (no pings) or between 1 second")]
    [InlineData("00:00:00", "00:00:30", "00:00:00", "Gateway:Http2KeepAlivePingTimeout 00:00:00 must be between 1 second")]
    [InlineData("30.00:00:00", "00:00:30", "00:00:20", "Gateway:Http2KeepAlivePingDelay 30.00:00:00 must be zero (no pings) or between 1 second and 25 days")]
    public void PingTimesThatKestrelOrTheHandlerWouldRefuse_AreRefusedAtStart(string agentDelay, string backendDelay, string timeout, string message)
    {
        var options = Valid();
        options.Http2KeepAlivePingDelay = TimeSpan.Parse(agentDelay, System.Globalization.CultureInfo.InvariantCulture);
        options.BackendKeepAlivePingDelay = TimeSpan.Parse(backendDelay, System.Globalization.CultureInfo.InvariantCulture);
        options.Http2KeepAlivePingTimeout = TimeSpan.Parse(timeout, System.Globalization.CultureInfo.InvariantCulture);

        new GatewayOptionsValidator().Validate(null, options).Failures.Should().ContainSingle().Which.Should().StartWith(message);
    }

    [Theory]
    [InlineData("00:00:00", "00:00:00")]
    [InlineData("00:00:01", "00:05:00")]
    public void PingOffOrAtLeastOneSecond_IsValid(string agentDelay, string backendDelay)
    {
        var options = Valid();
        options.Http2KeepAlivePingDelay = TimeSpan.Parse(agentDelay, System.Globalization.CultureInfo.InvariantCulture);
        options.BackendKeepAlivePingDelay = TimeSpan.Parse(backendDelay, System.Globalization.CultureInfo.InvariantCulture);

        new GatewayOptionsValidator().Validate(null, options).Succeeded.Should().BeTrue();
    }
}
