namespace Tcm.Functional.Tests;

/// <summary>
/// The server setting "TCM communication" governs every persistent connection of the agent: the core agent's to its Notification
/// Server and the Client Task Agent's to its Task Server. A real NS, a real Task Server and a real agent.
/// </summary>
public sealed class TcmSettingTests(ITestOutputHelper output) : SystemTest(output)
{
    private NotificationServerHost _ns = null!;
    private TaskServerHost _ts = null!;
    private TcmAgent _agent = null!;

    public override async Task InitializeAsync() => _ns = await StartNotificationServerAsync();

    [Fact]
    public async Task TcmOff_MovesBothChannelsToHttp_TasksStillArrive_AndOnAgain_BothChannelsReturn()
    {
        _ts = Own(await TaskServerHost.StartAsync(Output, _ns, "ts-1"));
        await WaitForTaskServersOnlineAsync(_ns, 1);
        // Polls every half second: the agent learns that TCM is on again at its next policy request, as agents on HTTP do.
        _agent = await StartAgentAsync(RealAgents.Options(await _ns.Info.CreateInstallPackageAsync(), "PC-TCM", TimeSpan.FromMilliseconds(500)));
        var id = await RealAgents.WaitForIdAsync(_agent);

        // TCM on: both channels persistent.
        await WaitForBothAsync(TransportKind.Persistent, "TCM on");
        _ts.Info.IsConnected(id).Should().BeTrue();

        // TCM off: both over HTTP, and both say why.
        await _ns.SetTcmEnabledAsync(false);
        await WaitForStatusAsync(
            _agent,
            s => IsHttpBecause(s, CloseReasons.TcmDisabled) && s.TaskServer is { } ts && IsHttpBecause(ts, CloseReasons.TcmDisabled),
            "both the NS and the Task Server connection to work over HTTP because TCM communication is off");
        await Eventually.WaitAsync(() => _ts.Info.IsConnected(id), connected => !connected, Deadline, "the Task Server to see the agent's channel closed");

        // A task through the Task Server still reaches the agent, over HTTP.
        var action = await _ns.PushThroughTaskServersAsync(TestTasks.Echo("while TCM is off", id));
        // why the delivery waited for too: over HTTP the agent acknowledges a task with its next poll, which can come after its result.
        var status = await WaitForActionAsync(
            _ns, action.ActionId, s => s.Counts["succeeded"] == 1 && s.Targets.Single().DeliveredVia is not null, "the task to succeed over HTTP and its delivery to be recorded");
        var target = status.Targets.Single();
        target.DeliveredVia.Should().Be("http");
        target.Output.Should().Be("while TCM is off");
        _ts.Info.IsConnected(id).Should().BeFalse("the Client Task Agent stays on HTTP while TCM is off");

        // TCM on again: both channels come back.
        await _ns.SetTcmEnabledAsync(true);
        await WaitForBothAsync(TransportKind.Persistent, "TCM on again");
        _ts.Info.IsConnected(id).Should().BeTrue();
    }

    private Task<NetworkStatus> WaitForBothAsync(TransportKind transport, string when) =>
        WaitForStatusAsync(
            _agent,
            s => s.Transport == transport && s.TaskServer?.Transport == transport,
            $"both the NS and the Task Server connection to be {transport} ({when})");
}
