using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tcm.NotificationServer.Tests.Functional;

/// <summary>
/// The action event streams (<c>GET /tcm/admin/actions/{id}/events</c>, <c>/actions/events</c>): a real NS on 127.0.0.1, agents
/// on real channels completing a task, the stream read as a browser's <c>EventSource</c> reads it.
/// </summary>
public sealed class ActionEventStreamTests
{
    private const int AgentCount = 3;

    private static readonly string[] Lifecycle = ["delivered", "running", "succeeded"];

    [Fact]
    public async Task ActionStream_StartsWithTheSnapshot_ThenCarriesEachTargetsChanges_InCommitOrder()
    {
        await using var scene = await Scene.StartAsync();
        var (server, fleet, created) = scene;
        await using var stream = await scene.OpenAsync();

        stream.Response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        stream.Response.Headers.CacheControl!.NoCache.Should().BeTrue();
        var snapshot = await stream.ReadAsync();
        snapshot.Event.Should().Be("snapshot");
        var status = JsonSerializer.Deserialize(snapshot.Data, ProtocolJsonContext.Default.ActionStatus)!;
        (status.ActionId, status.Counts["pending"], status.Targets.Count).Should().Be((created.ActionId, AgentCount, AgentCount));

        await CompleteOneByOneAsync(server, fleet, created.ActionId);
        var changes = await ReadTargetsAsync(stream, AgentCount * Lifecycle.Length);

        changes.Select(Change).Should().Equal(
            fleet.Agents.SelectMany(a => Lifecycle.Select(state => (a.Id, state))),
            "each agent went delivered, running, succeeded before the next began, and the stream says so in that order");
        Seqs(changes).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        var last = JsonNode.Parse(changes[^1].Data)!;
        ((string)last["actionId"]!, (string)last["computerName"]!, (string)last["output"]!, (int)last["exitCode"]!, (int)last["resultCount"]!)
            .Should().Be((created.ActionId, "PC-0002", "done", 0, 1));
    }

    [Fact]
    public async Task Reconnect_WithLastEventId_ReplaysExactlyWhatWasMissed_WithoutASnapshot()
    {
        await using var scene = await Scene.StartAsync();
        var (server, fleet, created) = scene;
        await using var unbroken = await scene.OpenAsync();
        var before = new List<ServerSentEvent>();
        await using (var broken = await scene.OpenAsync())
        {
            (await broken.ReadAsync()).Event.Should().Be("snapshot");
            await CompleteAsync(server, fleet.Channels[0], fleet.Agents[0].Id, created.ActionId);
            before.AddRange(await ReadTargetsAsync(broken, Lifecycle.Length));
        }

        // While the client is away, the other two agents do all their work.
        await CompleteAsync(server, fleet.Channels[1], fleet.Agents[1].Id, created.ActionId);
        await CompleteAsync(server, fleet.Channels[2], fleet.Agents[2].Id, created.ActionId);
        await using var resumed = await scene.OpenAsync(lastEventId: before[^1].Id);
        var after = await resumed.ReadUntilAsync(e => e.Count == 2 * Lifecycle.Length);

        after.Should().OnlyContain(e => e.Event == "target", "a resumed stream replays the changes, it sends no snapshot");
        (await unbroken.ReadAsync()).Event.Should().Be("snapshot");
        var everything = await ReadTargetsAsync(unbroken, AgentCount * Lifecycle.Length);
        before.Concat(after).Should().Equal(everything, "what the client saw before and after its reconnect is what a client that never left saw");
    }

    [Fact]
    public async Task AllActionsStream_CarriesEveryAction_AndSaysResetForAnIdItCannotReplay()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        await using var fleet = await TestFleet.ConnectAsync(server, 2);
        await using var all = await ServerSentEventReader.OpenAsync(server.Admin, $"{TcmPaths.Admin}/actions/events");
        var first = await server.PushTaskAsync(new PushTaskRequest { Command = "echo", Targets = new Targets { Agents = [fleet.Agents[0].Id] } });
        var second = await server.PushTaskAsync(new PushTaskRequest { Command = "echo", Targets = new Targets { Agents = [fleet.Agents[1].Id] } });
        await CompleteAsync(server, fleet.Channels[0], fleet.Agents[0].Id, first.ActionId);
        await CompleteAsync(server, fleet.Channels[1], fleet.Agents[1].Id, second.ActionId);

        var events = await ReadTargetsAsync(all, 2 * Lifecycle.Length);

        events.Select(e => (string)JsonNode.Parse(e.Data)!["actionId"]!).Should().Equal(
            Enumerable.Repeat(first.ActionId, Lifecycle.Length).Concat(Enumerable.Repeat(second.ActionId, Lifecycle.Length)));
        await using var stale = await ServerSentEventReader.OpenAsync(server.Admin, $"{TcmPaths.Admin}/actions/events", lastEventId: "00000000-5");
        var reset = await stale.ReadAsync();
        reset.Event.Should().Be("reset");
        ((string)JsonNode.Parse(reset.Data)!["reason"]!).Should().Contain("no longer kept");
    }

    [Fact]
    public async Task Streams_RequireTheAdminKeyOrAConsoleSession_AndAnUnknownActionIsNotFound()
    {
        await using var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
        using var anonymous = server.CreateClient();
        (await anonymous.GetAsync($"{TcmPaths.Admin}/actions/events", HttpCompletionOption.ResponseHeadersRead)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await server.Admin.GetAsync(EventsOf("no-such-action"))).StatusCode.Should().Be(HttpStatusCode.NotFound);

        var cookies = new CookieContainer();
        using var browser = server.CreateClient(cookies: cookies);
        using var login = new System.Net.Http.HttpRequestMessage(HttpMethod.Post, "/console/api/login")
        {
            Content = new StringContent($"{{\"key\":\"{server.Info.AdminApiKey}\"}}", Encoding.UTF8, "application/json"),
        };
        login.Headers.Add("X-Tcm-Console", "1");
        (await browser.SendAsync(login)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var created = await server.PushTaskAsync(new PushTaskRequest { Command = "echo", Targets = Targets.Everyone });
        await using var stream = await ServerSentEventReader.OpenAsync(browser, EventsOf(created.ActionId));
        (await stream.ReadAsync()).Event.Should().Be("snapshot", "a console session reads the stream like the admin key");
    }

    /// <summary>A server, <see cref="AgentCount"/> agents on their channels, and a task pushed to them all.</summary>
    private sealed record Scene(NotificationServerHost Server, TestFleet Fleet, ActionCreated Created) : IAsyncDisposable
    {
        public static async Task<Scene> StartAsync()
        {
            var server = await NotificationServerHost.StartAsync(tcmEnabled: true);
            try
            {
                var fleet = await TestFleet.ConnectAsync(server, AgentCount);
                return new Scene(server, fleet, await server.PushTaskAsync(new PushTaskRequest { Command = "echo", Targets = Targets.Everyone }));
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }

        /// <summary>Opens the action's event stream, resuming after <paramref name="lastEventId"/> when given.</summary>
        public Task<ServerSentEventReader> OpenAsync(string? lastEventId = null) => ServerSentEventReader.OpenAsync(Server.Admin, EventsOf(Created.ActionId), lastEventId);

        public async ValueTask DisposeAsync()
        {
            await Fleet.DisposeAsync();
            await Server.DisposeAsync();
        }
    }

    internal static string EventsOf(string actionId) => $"{TcmPaths.Admin}/actions/{actionId}/events";

    private static (string Agent, string State) Change(ServerSentEvent e)
    {
        var data = JsonNode.Parse(e.Data)!;
        return ((string)data["agentId"]!, (string)data["state"]!);
    }

    private static IEnumerable<long> Seqs(IEnumerable<ServerSentEvent> events) => events.Select(e => long.Parse(e.Id![(e.Id!.IndexOf('-', StringComparison.Ordinal) + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    private static async Task<List<ServerSentEvent>> ReadTargetsAsync(ServerSentEventReader stream, int count)
    {
        var events = await stream.ReadUntilAsync(e => e.Count(x => x.Event == "target") == count);
        return [.. events.Where(e => e.Event == "target")];
    }

    private static async Task CompleteOneByOneAsync(NotificationServerHost server, TestFleet fleet, string actionId)
    {
        for (var i = 0; i < fleet.Agents.Length; i++)
        {
            await CompleteAsync(server, fleet.Channels[i], fleet.Agents[i].Id, actionId);
        }
    }

    /// <summary>The agent takes the push, acknowledges it, reports running, then its result; each step committed before the next.</summary>
    private static async Task CompleteAsync(NotificationServerHost server, TestChannel channel, string agentId, string actionId)
    {
        var push = await channel.ReceiveAsync<TaskPushMessage>();
        await channel.SendAsync(new AckMessage { UpToSeq = push.Seq });
        await WaitForTargetAsync(server, actionId, agentId, TaskState.Delivered);
        await channel.SendAsync(new TaskStatusMessage { TaskId = push.TaskId, State = TaskState.Running });
        await WaitForTargetAsync(server, actionId, agentId, TaskState.Running);
        var key = $"{agentId}:{push.TaskId}";
        await channel.SendAsync(new TaskResultMessage { TaskId = push.TaskId, IdempotencyKey = key, State = TaskState.Succeeded, ExitCode = 0, Output = "done" });
        (await channel.ReceiveAsync<AckMessage>(a => a.Keys is not null)).Keys.Should().Equal(key);
    }

    private static Task<ActionStatus> WaitForTargetAsync(NotificationServerHost server, string actionId, string agentId, TaskState state) =>
        Eventually.WaitAsync(
            ct => server.GetActionAsync(actionId, ct),
            s => s.Targets.Single(t => t.AgentId == agentId).State == state,
            Eventually.DefaultDeadline,
            $"agent {agentId} to be {state}");
}
