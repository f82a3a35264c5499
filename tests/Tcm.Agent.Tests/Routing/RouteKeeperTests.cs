using System.Net;
using System.Net.Sockets;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Logging.Abstractions;
using Tcm.Agent.Network;
using Tcm.Agent.Routing;

namespace Tcm.Agent.Tests.Routing;

/// <summary>
/// Re-evaluation of the routing decision (<see cref="RouteKeeper"/>) with a fake network and a fake clock: adapter changes, policy
/// changes and connection failures each lead to a new decision before the next connection attempt; NS and TS never disagree.
/// </summary>
public sealed class RouteKeeperTests
{
    private const string VpnDescription = "Check Point Virtual Network Adapter For Endpoint VPN Client";
    private static readonly TaskServerEntry TaskServer = new() { Id = "ts1", Address = "ts1.corp:4443" };
    private static readonly InstallPackage Package = new()
    {
        ServerUrl = "https://ns.corp:4443",
        RegistrationToken = "token",
        CaCertificatePem = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----",
        Cem = new CemSettings { GatewayAddress = "gw.example:8443" },
    };

    [Fact]
    public async Task AdapterChange_VpnUp_MovesToCem_WithoutProbing()
    {
        var network = new FakeNetwork { NotificationServerReachable = true };
        var policy = Policy(preferCemIfVpn: true);
        var (keeper, changes) = Create(network, () => policy);
        (await Evaluate(keeper, "agent start")).Mode.Should().Be(ConnectionMode.Direct);
        var probes = keeper.Probes;

        network.VpnUp = true;
        keeper.Request("network adapters changed");
        var plan = await keeper.EnsureCurrentAsync(CancellationToken.None);

        plan.Mode.Should().Be(ConnectionMode.Cem);
        plan.Reason.Should().Contain(VpnDescription);
        keeper.Probes.Should().Be(probes, "the preference decides: the server is not probed");
        changes.Should().ContainSingle().Which.Should().Be((ConnectionMode.Direct, ConnectionMode.Cem));
    }

    [Fact]
    public async Task PolicyChange_PreferCem_MovesToCem()
    {
        var network = new FakeNetwork { NotificationServerReachable = true };
        var policy = Policy();
        var (keeper, changes) = Create(network, () => policy);
        (await Evaluate(keeper, "agent start")).Mode.Should().Be(ConnectionMode.Direct);

        policy = Policy(preferCem: true);
        keeper.IsPending.Should().BeFalse();
        keeper.Request("policy 2 from the channel");
        keeper.IsPending.Should().BeTrue();
        var plan = await keeper.EnsureCurrentAsync(CancellationToken.None);

        plan.Mode.Should().Be(ConnectionMode.Cem);
        plan.Reason.Should().Contain("'Prefer CEM gateway connection' is set");
        changes.Should().Equal((ConnectionMode.Direct, ConnectionMode.Cem));
    }

    [Fact]
    public async Task ConnectionFailure_ServerNoLongerReachable_ProbesAgain_AndMovesToCem()
    {
        var network = new FakeNetwork { NotificationServerReachable = true };
        var (keeper, changes) = Create(network, () => Policy());
        (await Evaluate(keeper, "agent start")).Mode.Should().Be(ConnectionMode.Direct);

        network.NotificationServerReachable = false;
        var plan = await Evaluate(keeper, "a connection to the Notification Server failed");

        keeper.Probes.Should().Be(2);
        plan.Mode.Should().Be(ConnectionMode.Cem);
        plan.Reason.Should().Contain("not reachable directly");
        changes.Should().Equal((ConnectionMode.Direct, ConnectionMode.Cem));
    }

    [Fact]
    public async Task FallbackToCem_IsReportedAsFallback_UntilTheServerAnswersAgain_ThenBackToDirect()
    {
        var network = new FakeNetwork { NotificationServerReachable = true };
        var (keeper, changes) = Create(network, () => Policy());
        var fallbacks = new List<bool>();
        keeper.Evaluated = fallbacks.Add;
        await Evaluate(keeper, "agent start");

        network.NotificationServerReachable = false;
        await Evaluate(keeper, "a connection to the Notification Server failed");
        await Evaluate(keeper, "probing the preferred route");
        network.NotificationServerReachable = true;
        var plan = await Evaluate(keeper, "probing the preferred route");

        fallbacks.Should().Equal(false, true, true, false);
        plan.Mode.Should().Be(ConnectionMode.Direct);
        changes.Should().Equal((ConnectionMode.Direct, ConnectionMode.Cem), (ConnectionMode.Cem, ConnectionMode.Direct));
    }

    [Fact]
    public async Task PreferCem_IsNoFallback_NothingToProbe()
    {
        var network = new FakeNetwork { NotificationServerReachable = false };
        var (keeper, _) = Create(network, () => Policy(preferCem: true));
        var fallbacks = new List<bool>();
        keeper.Evaluated = fallbacks.Add;

        (await Evaluate(keeper, "agent start")).Mode.Should().Be(ConnectionMode.Cem);

        fallbacks.Should().Equal(false);
        keeper.Probes.Should().Be(0);
    }

    [Fact]
    public async Task ConnectionFailure_ProbeWithoutAnswer_TimesOutOnTheClock()
    {
        var time = new TimerCountingTimeProvider();
        var network = new FakeNetwork { Hang = true };
        var (keeper, _) = Create(network, () => Policy(), time);
        keeper.Request("a connection to the Notification Server failed");

        var evaluation = keeper.EnsureCurrentAsync(CancellationToken.None).AsTask();
        await Eventually.WaitAsync(() => keeper.Probes == 1 && time.ActiveTimers > 0, TimeSpan.FromSeconds(10), "the probe to start and arm its timeout");
        evaluation.IsCompleted.Should().BeFalse("the probe waits for an answer");

        time.Advance(TimeSpan.FromSeconds(2));

        (await evaluation.WaitAsync(TimeSpan.FromSeconds(10))).Mode.Should().Be(ConnectionMode.Cem, "the probe gave up after the probe timeout on the agent's clock");
    }

    [Fact]
    public async Task AdapterChangeDuringTheProbe_TheStaleDecisionIsNotPublished()
    {
        // Fix #1: the VPN comes up while the server is probed; the decision taken on the adapters read before is never in force.
        var network = new FakeNetwork { NotificationServerReachable = true };
        var policy = Policy(preferCemIfVpn: true);
        RouteKeeper keeper = null!;
        network.BeforeProbe = () =>
        {
            network.VpnUp = true;
            keeper.Request("network adapters changed");
        };
        (keeper, var changes) = Create(network, () => policy);

        var plan = await Evaluate(keeper, "policy received at registration");

        plan.Mode.Should().Be(ConnectionMode.Cem);
        changes.Should().Equal((ConnectionMode.Direct, ConnectionMode.Cem));
        keeper.Evaluations.Should().Be(2);
    }

    [Fact]
    public async Task EnsureCurrent_WaitsForAnEvaluationInProgress()
    {
        var network = new FakeNetwork { NotificationServerReachable = true };
        var release = new TaskCompletionSource();
        network.ProbeGate = release.Task;
        var (keeper, _) = Create(network, () => Policy());
        keeper.Request("agent start");
        var first = keeper.EnsureCurrentAsync(CancellationToken.None).AsTask();
        await Eventually.WaitAsync(() => keeper.Evaluations == 1, TimeSpan.FromSeconds(10), "the first evaluation to start");

        var second = keeper.EnsureCurrentAsync(CancellationToken.None).AsTask();
        second.IsCompleted.Should().BeFalse("nothing is pending, but an evaluation is in progress");
        release.SetResult();

        (await second).Should().BeSameAs(await first);
        (await second).Mode.Should().Be(ConnectionMode.Direct);
    }

    [Fact]
    public void Property_AfterAnySequenceOfChanges_NsAndTsPlannedRoutesAgree()
    {
        var change =
            from kind in Gen.Choose(0, 4)
            from flag in ArbMap.Default.GeneratorFor<bool>()
            select (kind, flag);

        Prop.ForAll(Gen.ListOf(change).Select(c => c.ToArray()).ToArbitrary(), changes =>
        {
            var network = new FakeNetwork();
            var settings = (PreferCem: false, PreferCemIfVpn: false, Adapters: true);
            var (keeper, _) = Create(network, () => Policy(settings.PreferCem, settings.PreferCemIfVpn, settings.Adapters));
            keeper.Request("agent start");
            foreach (var (kind, flag) in changes)
            {
                switch (kind)
                {
                    case 0:
                        network.VpnUp = flag;
                        break;
                    case 1:
                        network.NotificationServerReachable = flag;
                        break;
                    case 2:
                        settings.PreferCem = flag;
                        break;
                    case 3:
                        settings.PreferCemIfVpn = flag;
                        break;
                    default:
                        settings.Adapters = flag;
                        break;
                }

                keeper.Request(kind < 2 ? "network adapters changed" : "policy changed");
                var plan = keeper.EnsureCurrentAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
                var policy = Policy(settings.PreferCem, settings.PreferCemIfVpn, settings.Adapters);
                var ns = RouteResolver.ResolveRoute(Package, policy, plan);
                var ts = RouteResolver.ResolveRoute(Package, policy, plan, TaskServer);
                if (ns.Mode != ts.Mode || ns.Gateway != ts.Gateway || !ReferenceEquals(ns.Plan, ts.Plan))
                {
                    return false;
                }
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }

    private static (RouteKeeper Keeper, List<(ConnectionMode From, ConnectionMode To)> Changes) Create(FakeNetwork network, Func<PolicyDocument?> policy, TimeProvider? time = null)
    {
        var changes = new List<(ConnectionMode, ConnectionMode)>();
        var keeper = new RouteKeeper(Package, network, time ?? TimeProvider.System, TimeSpan.FromSeconds(2), policy, NullLogger.Instance)
        {
            RouteChanged = (previous, plan, _) =>
            {
                // The initial (unevaluated) plan is Direct: the first decision only counts when it changes whom the agent calls.
                changes.Add((previous.EffectiveMode, plan.EffectiveMode));
                return Task.CompletedTask;
            },
        };
        return (keeper, changes);
    }

    private static async Task<RoutePlan> Evaluate(RouteKeeper keeper, string trigger)
    {
        keeper.Request(trigger);
        return await keeper.EnsureCurrentAsync(CancellationToken.None);
    }

    private static PolicyDocument Policy(bool preferCem = false, bool preferCemIfVpn = false, bool vpnAdapters = true) =>
        TestData.Policy(hosts: "ns.corp:4443") with
        {
            Settings = new AgentSettings { PreferCem = preferCem, PreferCemIfVpn = preferCemIfVpn, VpnAdapters = vpnAdapters ? ["Check Point*"] : [] },
            Communication = new CommunicationSettings { ServerHosts = ["ns.corp:4443"], Cem = new CemSettings { GatewayAddress = "gw.example:8443" } },
        };

    /// <summary>A laptop: Wi-Fi always up, a Check Point VPN adapter the test switches; probes succeed when the NS is reachable.</summary>
    private sealed class FakeNetwork : INetwork
    {
        private bool _vpnUp;

        public bool VpnUp
        {
            get => _vpnUp;
            set
            {
                _vpnUp = value;
                AdaptersChanged?.Invoke(this, EventArgs.Empty);
            }
        }

        public bool NotificationServerReachable { get; set; }

        public bool Hang { get; set; }

        public Action? BeforeProbe { get; set; }

        public Task? ProbeGate { get; set; }

        public event EventHandler? AdaptersChanged;

        public IReadOnlyList<NetworkAdapter> GetAdapters() =>
        [
            new("Wi-Fi", "Intel(R) Dual Band Wireless-AC 8265", true, ["192.168.1.81"]),
            new("Global\\AeX{D55B3D95}", VpnDescription, VpnUp, VpnUp ? ["10.1.178.170"] : []),
        ];

        public async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, TrafficPurpose purpose, CancellationToken cancellationToken)
        {
            BeforeProbe?.Invoke();
            BeforeProbe = null;
            if (ProbeGate is { } gate)
            {
                await gate.WaitAsync(cancellationToken);
            }

            if (Hang)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return NotificationServerReachable ? new MemoryStream() : throw new SocketException((int)SocketError.NetworkUnreachable);
        }
    }
}
