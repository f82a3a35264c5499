using System.Net.Http.Headers;

namespace Tcm.Functional.Tests;

/// <summary>
/// A real NS and Task Server, and an agent that speaks HTTP to the Task Server: a result counts only for the task its idempotency key
/// names, so one task's result can never stand for another's.
/// </summary>
public sealed class TaskServerResultKeyTests(ITestOutputHelper output) : SystemTest(output)
{
    private NotificationServerHost _ns = null!;
    private TaskServerHost _ts = null!;
    private CemAgent _agent = null!;
    private HttpClient _http = null!;

    public override async Task InitializeAsync()
    {
        _ns = await StartNotificationServerAsync();
        _ts = Own(await TaskServerHost.StartAsync(Output, _ns, "ts-a"));
        _agent = Own(await CemAgent.RegisterAsync(_ns, "PC-KEYS"));
        _http = Own(new HttpClient(CemAgent.CreateHandler(_ns.Info.CaCertificate, _agent.Certificate)) { BaseAddress = new Uri(_ts.Info.BaseUrl) });
        (await _http.GetAsync($"{TcmPaths.Tasks}?after=0")).EnsureSuccessStatusCode();
        await WaitForTaskServersAsync(_ns, l => l.Count == 1 && l[0].Online && l[0].RegisteredAgents == 1, "the NS to know the agent is held by the Task Server");
    }

    [Fact]
    public async Task Result_UnderAnotherTasksKey_IsRefused_AndThatTasksOwnResultIsStored()
    {
        var (taskA, taskB) = (await PushAsync("a"), await PushAsync("b"));
        await ReceiveAndAckAsync(2);
        await WaitForActionAsync(taskB.ActionId, s => s.Targets.All(t => t.State == TaskState.Delivered), "task B to be delivered");
        var keyB = $"{_agent.Id}:{taskB.ActionId}";

        var forged = await PostResultAsync(new TaskResultMessage { TaskId = taskA.ActionId, IdempotencyKey = keyB, State = TaskState.Succeeded, Output = "result of A" });
        forged.StatusCode.Should().Be(HttpStatusCode.BadRequest);

        var own = await PostResultAsync(new TaskResultMessage { TaskId = taskB.ActionId, IdempotencyKey = keyB, State = TaskState.Succeeded, Output = "result of B" });
        own.EnsureSuccessStatusCode();
        (await own.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ResultReceipt))!.Duplicate.Should().BeFalse();
        var b = (await WaitForActionAsync(taskB.ActionId, s => s.Targets.All(t => t.State == TaskState.Succeeded), "task B to succeed")).Targets.Single();
        b.Output.Should().Be("result of B");
        b.ResultCount.Should().Be(1);
        var a = (await _ns.GetActionAsync(taskA.ActionId)).Targets.Single();
        a.State.Should().Be(TaskState.Delivered);
        a.ResultCount.Should().Be(0);
    }

    [Fact]
    public async Task SecondResult_ForAStoredTask_UnderAnotherKey_IsRefused_AndTheFirstOutputStands()
    {
        var task = await PushAsync("once");
        await ReceiveAndAckAsync(1);
        var key = $"{_agent.Id}:{task.ActionId}";
        (await PostResultAsync(new TaskResultMessage { TaskId = task.ActionId, IdempotencyKey = key, State = TaskState.Succeeded, Output = "first" })).EnsureSuccessStatusCode();

        var again = await PostResultAsync(new TaskResultMessage { TaskId = task.ActionId, IdempotencyKey = key + ":again", State = TaskState.Failed, ExitCode = 1, Output = "second" });
        again.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await again.Content.ReadAsStringAsync()).Should().Contain(key);

        await Eventually.WaitAsync(() => _ts.Info.PendingForwards, n => n == 0, Deadline, "the Task Server to forward everything it stored");
        var target = (await WaitForActionAsync(task.ActionId, s => s.Targets.All(t => t.State == TaskState.Succeeded), "the task to succeed")).Targets.Single();
        target.Output.Should().Be("first");
        target.ResultCount.Should().Be(1);
    }

    private Task<ActionCreated> PushAsync(string text) => _ns.PushThroughTaskServersAsync(TestTasks.Echo(text, _agent.Id));

    /// <summary>Polls the Task Server until <paramref name="count"/> pushes wait, then acknowledges them with the next poll.</summary>
    private async Task ReceiveAndAckAsync(int count)
    {
        await Eventually.WaitAsync(
            async () => (await _http.GetFromJsonAsync($"{TcmPaths.Tasks}?after=0", ProtocolJsonContext.Default.PendingPushes))!,
            p => p.Items.Count == count, Deadline, $"{count} pushes at the Task Server");
        (await _http.GetAsync($"{TcmPaths.Tasks}?after={count}")).EnsureSuccessStatusCode();
    }

    private Task<HttpResponseMessage> PostResultAsync(TaskResultMessage result)
    {
        var content = new ByteArrayContent(MessageCodec.Encode(result));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return _http.PostAsync(TcmPaths.TaskResult, content);
    }

    private Task<ActionStatus> WaitForActionAsync(string actionId, Func<ActionStatus, bool> condition, string what) =>
        WaitForActionAsync(_ns, actionId, condition, what);
}
