using System.Net.Http.Json;
using Tcm.Agent;
using Tcm.Functional.Tests.Infrastructure;
using Tcm.Protocol;
using Tcm.Protocol.Admin;
using Tcm.Testing;

namespace Tcm.Functional.Tests;

/// <summary>
/// The server setting "TCM communication" governs every persistent connection of the agent: the core agent's to its Notification
/// Server and the Client Task Agent's to its Task Server. A real NS, a real Task Server and a real agent.
/// </summary>
public sealed class TcmSettingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private NotificationServerHost _ns = null!;
    private TaskServerHost? _ts;
    private TcmAgent? _agent;

    public async Task InitializeAsync() => _ns = await NotificationServerHost.StartAsync(output, tcmEnabled: true);

    public async Task DisposeAsync()
    {
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
        }

        if (_ts is not null)
        {
            await _ts.DisposeAsync();
        }

        await _ns.DisposeAsync();
    }

    [Fact]
    public async Task TcmOff_MovesBothChannelsToHttp_TasksStillArrive_AndOnAgain_BothChannelsReturn()
    {
        _ts = await TaskServerHost.StartAsync(output, _ns, "ts-1");
        await Eventually.WaitAsync(ListTaskServersAsync, l => l.Count == 1 && l[0].Online && l[0].Address is { } a && !a.EndsWith(":0", StringComparison.Ordinal),
            Deadline, "the Task Server to be online at the NS");
        // Polls every half second: the agent learns that TCM is on again at its next policy request, as agents on HTTP do.
        _agent = await RealAgents.StartAsync(RealAgents.Options(await _ns.Info.CreateInstallPackageAsync(), "PC-TCM", TimeSpan.FromMilliseconds(500)), output);
        var id = await RealAgents.WaitForIdAsync(_agent);

        // TCM on: both channels persistent.
        await WaitForBothAsync(TransportKind.Persistent, "TCM on");
        _ts.Info.IsConnected(id).Should().BeTrue();

        // TCM off: both over HTTP, and both say why.
        await _ns.SetTcmEnabledAsync(false);
        await Eventually.WaitAsync(
            _agent.GetNetworkStatus,
            s => IsHttpBecauseTcmIsOff(s) && s.TaskServer is { } ts && IsHttpBecauseTcmIsOff(ts),
            Deadline,
            "both the NS and the Task Server connection to work over HTTP because TCM communication is off");
        await Eventually.WaitAsync(() => _ts.Info.IsConnected(id), connected => !connected, Deadline, "the Task Server to see the agent's channel closed");

        // A task through the Task Server still reaches the agent, over HTTP.
        var action = await PushThroughTaskServerAsync(id, "while TCM is off");
        var status = await Eventually.WaitAsync(() => _ns.GetActionAsync(action.ActionId), s => s.Counts["succeeded"] == 1, Deadline, "the task to succeed over HTTP");
        var target = status.Targets.Single();
        target.DeliveredVia.Should().Be("http");
        target.Output.Should().Be("while TCM is off");
        _ts.Info.IsConnected(id).Should().BeFalse("the Client Task Agent stays on HTTP while TCM is off");

        // TCM on again: both channels come back.
        await _ns.SetTcmEnabledAsync(true);
        await WaitForBothAsync(TransportKind.Persistent, "TCM on again");
        _ts.Info.IsConnected(id).Should().BeTrue();
    }

    private static bool IsHttpBecauseTcmIsOff(NetworkStatus status) =>
        status.Transport == TransportKind.Http && (status.TransportDetail?.Contains(CloseReasons.TcmDisabled, StringComparison.Ordinal) ?? false);

    private Task<NetworkStatus> WaitForBothAsync(TransportKind transport, string when) =>
        Eventually.WaitAsync(
            _agent!.GetNetworkStatus,
            s => s.Transport == transport && s.TaskServer?.Transport == transport,
            Deadline,
            $"both the NS and the Task Server connection to be {transport} ({when})");

    private async Task<IReadOnlyList<TaskServerInfoView>> ListTaskServersAsync() =>
        (await _ns.Admin.GetFromJsonAsync("/tcm/admin/task-servers", ProtocolJsonContext.Default.IReadOnlyListTaskServerInfoView))!;

    private async Task<ActionCreated> PushThroughTaskServerAsync(string agentId, string text)
    {
        var response = await _ns.Admin.PostAsJsonAsync("/tcm/admin/actions/ts-task", new PushTaskRequest
        {
            Command = "echo",
            Parameters = new Dictionary<string, string> { ["text"] = text },
            Targets = new Targets { Agents = [agentId] },
        }, ProtocolJsonContext.Default.PushTaskRequest);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ActionCreated))!;
    }
}
