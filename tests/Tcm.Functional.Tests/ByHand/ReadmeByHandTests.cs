using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Tcm.Functional.Tests.ByHand;

/// <summary>
/// The README's "Run the servers and an agent by hand", step by step, with the real <c>tcm</c> in processes of its own on a
/// fresh data folder: if a documented command stops working, this fails. The one liberty taken: a free port instead of
/// 4443 (so it can run beside anything), given with <c>--port</c> and <c>--server</c>; the README's curl calls are made
/// with HttpClient, with the same method, path, key header and body.
/// </summary>
public sealed partial class ReadmeByHandTests
{
    private static readonly TimeSpan ProcessDeadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task The_readmes_by_hand_commands_run_a_server_and_an_agent_that_runs_a_pushed_task()
    {
        using var folder = new TemporaryFolder("readme");
        Directory.CreateDirectory(folder.Path);
        using var whole = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var ct = whole.Token;

        // 1. A Notification Server, data in ./data/ns.
        await using var ns = TcmProcess.Start(folder.Path, "ns", "--data", "data/ns", "--port", "0");
        var port = await ns.WaitForListeningPortAsync(ProcessDeadline);
        var server = $"https://localhost:{port}";

        // 2. Turn TCM communication on with the key from data/ns/admin.key, then build an install package.
        var key = (await File.ReadAllTextAsync(Path.Combine(folder.Path, "data/ns/admin.key"), ct)).Trim();
        using var ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(folder.Path, "data/ns/ca.pem"), ct));
        using var admin = TcmProcess.AdminHttp(server, key, ca);
        using (var settings = await admin.PutAsync("/tcm/admin/settings", Json("""{"tcmEnabled":true}"""), ct))
        {
            Assert.True(settings.IsSuccessStatusCode, $"PUT /tcm/admin/settings answered {(int)settings.StatusCode}");
        }

        var (packageExit, packageOutput) = await TcmProcess.RunAsync(
            folder.Path, ProcessDeadline, "ns", "package", "--data", "data/ns", "--out", "agent-package.json", "--server", server);
        Assert.True(packageExit == 0, $"tcm ns package exited {packageExit}:\n{packageOutput}");
        var packagePath = Path.Combine(folder.Path, "agent-package.json");
        Assert.True(File.Exists(packagePath), "tcm ns package wrote no agent-package.json");
        if (!OperatingSystem.IsWindows())
        {
            // The package holds a registration token: its owner alone may read it.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(packagePath));
        }

        // 3. A real agent from that package, state in ./data/agent.
        await using var agent = TcmProcess.Start(folder.Path, "agent", "run", "--package", "agent-package.json", "--data", "data/agent");

        // 4. Its Network Status, and the server's view of it.
        var status = await Eventually.WaitAsync(
            async () => await TcmProcess.RunAsync(folder.Path, ProcessDeadline, "agent", "status", "--data", "data/agent"),
            run => run.ExitCode == 0 && run.Output.Contains("Persistent", StringComparison.Ordinal),
            ProcessDeadline,
            "tcm agent status to show a persistent connection",
            ct,
            run => $"exit {run.ExitCode}: {run.Output}\nagent output:\n{agent.Output}");
        Assert.Contains("Notification Server:", status.Output, StringComparison.Ordinal);
        Assert.Contains($"localhost:{port}", status.Output, StringComparison.Ordinal);

        var agents = await admin.GetStringAsync("/tcm/admin/agents", ct);
        using (var page = JsonDocument.Parse(agents))
        {
            var listed = page.RootElement.GetProperty("items").EnumerateArray().ToList();
            var only = Assert.Single(listed);
            Assert.True(only.GetProperty("connected").GetBoolean(), $"the server does not see the agent connected: {agents}");
        }

        if (!OperatingSystem.IsWindows())
        {
            // The agent's state holds its private key.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder.Path, "data/agent/agent-state.json")));
        }

        // 5. Push a task to every agent and watch its status.
        using var push = await admin.PostAsync(
            "/tcm/admin/actions/task", Json("""{"command":"echo","parameters":{"text":"hello"},"targets":{"all":true}}"""), ct);
        Assert.True(push.IsSuccessStatusCode, $"POST /tcm/admin/actions/task answered {(int)push.StatusCode}: {await push.Content.ReadAsStringAsync(ct)}");
        var created = (await push.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ActionCreated, ct))!;
        Assert.Equal(1, created.TargetCount);
        var action = await Eventually.WaitAsync(
            async c => (await admin.GetFromJsonAsync($"/tcm/admin/actions/{created.ActionId}", ProtocolJsonContext.Default.ActionStatus, c))!,
            a => a.Targets.All(t => t.State == TaskState.Succeeded),
            ProcessDeadline,
            "the pushed echo task to succeed on the agent",
            ct,
            a => string.Join(", ", a.Targets.Select(t => $"{t.ComputerName}: {t.State}")));
        var target = Assert.Single(action.Targets);
        Assert.Contains("hello", target.Output, StringComparison.Ordinal);
        Assert.Equal("persistent", target.DeliveredVia);
    }

    private static StringContent Json(string body) => new(body, new MediaTypeHeaderValue("application/json"));
}
