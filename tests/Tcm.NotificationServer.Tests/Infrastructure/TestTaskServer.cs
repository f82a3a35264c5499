using System.Security.Cryptography.X509Certificates;

namespace Tcm.NotificationServer.Tests.Infrastructure;

/// <summary>
/// A Task Server as the Notification Server sees it, without the Task Server itself: its site-server certificate, its reports of the
/// agents it holds and its long polls, sent to whichever node <see cref="ReportAsync"/> and <see cref="PollAsync"/> are given.
/// </summary>
internal sealed class TestTaskServer(string name, X509Certificate2 certificate) : IDisposable
{
    public string Name { get; } = name;

    /// <summary>Creates Task Server <paramref name="name"/> on <paramref name="creator"/> and registers it, as a Task Server does at its first start.</summary>
    public static async Task<TestTaskServer> RegisterAsync(NotificationServerHost creator, string name = "ts1") =>
        new(name, await TestSiteServer.RegisterAsync(creator, name, SiteServerKind.TaskServer, "task-server"));

    /// <summary>A full report to <paramref name="node"/>: the Task Server holds <paramref name="agents"/>, with a persistent connection or not.</summary>
    public async Task ReportAsync(NotificationServerHost node, params (string AgentId, bool Connected)[] agents)
    {
        using var client = node.CreateClient(certificate);
        var report = new TaskServerReport { Address = $"{Name}.example:4445", Full = true, Agents = [.. agents.Select(a => new TaskServerAgentState(a.AgentId, a.Connected))] };
        (await client.PostAsJsonAsync(TaskServerPaths.Report, report, ProtocolJsonContext.Default.TaskServerReport)).StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    /// <summary>
    /// One long poll of <paramref name="node"/> for work, waiting up to <paramref name="waitSeconds"/>; with <paramref name="groups"/>, as a
    /// Task Server of today asks (a fan-out as one task and its agents), else as one of before.
    /// </summary>
    public async Task<TaskServerWork> PollAsync(NotificationServerHost node, int waitSeconds, CancellationToken cancellationToken = default, bool groups = false)
    {
        using var client = node.CreateClient(certificate);
        var query = groups ? $"&{TaskServerPaths.WorkGroupsQuery}=1" : "";
        return (await client.GetFromJsonAsync($"{TaskServerPaths.Work}?wait={waitSeconds}{query}", ProtocolJsonContext.Default.TaskServerWork, cancellationToken))!;
    }

    /// <summary>This Task Server as <paramref name="node"/>'s admin API lists it.</summary>
    public async Task<TaskServerInfoView> ViewAsync(NotificationServerHost node, CancellationToken cancellationToken = default) =>
        (await node.AdminGetAsync("/task-servers", ProtocolJsonContext.Default.IReadOnlyListTaskServerInfoView, cancellationToken)).Single(t => t.Name == Name);

    public void Dispose() => certificate.Dispose();
}
