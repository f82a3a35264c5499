using System.Net;
using Tcm.NotificationServer.Tests.Infrastructure;
using Tcm.Protocol;

namespace Tcm.NotificationServer.Tests.Functional;

/// <summary>The NS's <c>/metrics</c>: Prometheus text behind the admin key, with the delivery series moving as an agent works.</summary>
public sealed class MetricsEndpointTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(null)]
    [InlineData("not-the-admin-key-of-this-server")]
    public async Task Metrics_WithoutTheAdminKey_IsRefusedWith401(string? key)
    {
        await using var server = await NotificationServerHost.StartAsync(output);
        using var client = server.CreateAdminClient(key, sendKey: key is not null);

        using var response = await client.GetAsync("/metrics");

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.GetValues("X-Tcm-Refusal").Should().Equal("admin-key-required");
        (await response.Content.ReadAsStringAsync()).Should().NotContain("tcm_ns_");
    }

    [Fact]
    public async Task Metrics_WithTheKey_ShowConnectionsPushesAcksLatencyResultsAndStoreCommits_Moving()
    {
        await using var server = await NotificationServerHost.StartAsync(output, tcmEnabled: true);
        var before = await PrometheusScrape.ScrapeAsync(server.Admin);
        using var agent = await server.RegisterAgentAsync();
        (await agent.Http.GetAsync($"{TcmPaths.Tasks}?after=0")).EnsureSuccessStatusCode();
        var (channel, _) = await agent.ConnectAsync(Version.Parse("2.0"));
        await using var _ = channel;

        var created = await DeliveryTests.PushTaskAsync(server, agent.Id);
        var push = await channel.ReceiveAsync<TaskPushMessage>();
        var queued = await Eventually.WaitAsync(ct => PrometheusScrape.ScrapeAsync(server.Admin, ct), s => s.Sum("tcm_ns_pushes_in_flight") >= 1, Eventually.DefaultDeadline, "the push to be queued until acknowledged");
        await channel.SendAsync(new AckMessage { UpToSeq = push.Seq });
        var key = $"{agent.Id}:{push.TaskId}";
        await channel.SendAsync(new TaskResultMessage { TaskId = push.TaskId, IdempotencyKey = key, State = TaskState.Succeeded, ExitCode = 0, Output = "hello" });
        await channel.ReceiveAsync<AckMessage>(a => a.Keys is not null);
        await DeliveryTests.WaitForStateAsync(server, created.ActionId, TaskState.Succeeded);

        var after = await Eventually.WaitAsync(
            ct => PrometheusScrape.ScrapeAsync(server.Admin, ct),
            s => s.Sum("tcm_ns_delivery_latency_milliseconds_count") > before.Sum("tcm_ns_delivery_latency_milliseconds_count") && s.Sum("tcm_ns_pushes_in_flight") == 0,
            Eventually.DefaultDeadline, "the acknowledgement to show in /metrics");
        var channelLabels = new[] { "transport=\"websocket-h2\"", "route=\"direct\"" };
        after.Sum("tcm_ns_connections_opened_total", channelLabels).Should().Be(before.Sum("tcm_ns_connections_opened_total", channelLabels) + 1);
        after.Sum("tcm_ns_connections_live", channelLabels).Should().Be(1);
        after.Sum("tcm_ns_agent_requests_total", "transport=\"http\"", "route=\"direct\"").Should().BeGreaterThan(before.Sum("tcm_ns_agent_requests_total"));
        after.Sum("tcm_ns_pushes_sent_total").Should().BeGreaterThan(before.Sum("tcm_ns_pushes_sent_total"));
        after.Sum("tcm_ns_acks_total").Should().BeGreaterThan(before.Sum("tcm_ns_acks_total"));
        after.Sum("tcm_ns_results_stored_total").Should().BeGreaterThan(before.Sum("tcm_ns_results_stored_total"));
        queued.Sum("tcm_ns_pushes_in_flight").Should().BeGreaterThanOrEqualTo(1);
        after.Sum("tcm_store_commit_duration_seconds_count", "store=\"tcm\"").Should().BeGreaterThan(before.Sum("tcm_store_commit_duration_seconds_count", "store=\"tcm\""));
        after.Has("kestrel_active_connections").Should().BeTrue("Kestrel's connection series are exported too");
        after.Has("dotnet_gc_heap_total_allocated_bytes_total").Should().BeTrue("the runtime's series are exported too");
    }

    [Fact]
    public async Task Metrics_OfAnotherServerInTheSameProcess_AreNotMixedIn()
    {
        await using var busy = await NotificationServerHost.StartAsync(output, tcmEnabled: true);
        await using var quiet = await NotificationServerHost.StartAsync(output, tcmEnabled: true);
        using var agent = await busy.RegisterAgentAsync();
        var (channel, _) = await agent.ConnectAsync();
        await using var _ = channel;

        await Eventually.WaitAsync(ct => PrometheusScrape.ScrapeAsync(busy.Admin, ct), s => s.Sum("tcm_ns_connections_live") == 1, Eventually.DefaultDeadline, "the busy server to count its channel");
        var scrape = await PrometheusScrape.ScrapeAsync(quiet.Admin);

        scrape.Sum("tcm_ns_connections_opened_total").Should().Be(0);
        scrape.Sum("tcm_ns_connections_live").Should().Be(0);
    }
}
